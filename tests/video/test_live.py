"""The live feed: real H.264 played through the PacketSink calls, as ingest makes them, and
fragmented MP4 out to asyncio viewers that must decode it frame for frame."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import av
import pytest

from safecity.video.ingest.packets import VideoPacket
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_video
from safecity.video.live import feed as live_module
from safecity.video.live.feed import (
    OFFLINE,
    Fragment,
    InitSegment,
    LiveEvent,
    LiveFeed,
    Viewer,
    ViewerDropped,
)
from safecity.video.mp4.boxes import hevc_codec_suffix, init_codec
from tests.support.players import FilePlayer

T = TypeVar("T")

SPEC = VideoSpec(width=320, height=180, fps=15, seconds=4, gop_seconds=2)  # keyframes at 0, 30
SMALL = VideoSpec(width=256, height=144, fps=15, seconds=2, gop_seconds=1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_street_video(
        VideoJob(tmp_path_factory.mktemp("live") / "CAM-1.mp4", "CAM-1", 3), SPEC
    )


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_street_video(
        VideoJob(tmp_path_factory.mktemp("live") / "CAM-1-small.mp4", "CAM-1", 4), SMALL
    )


def run(test: Callable[[Callable[[Callable[[], T]], Awaitable[T]]], Awaitable[None]]) -> None:
    """Run an async test whose ``ingest(fn)`` runs ``fn`` on one dedicated ingest thread. The
    event loop gets a thread of its own too: Playwright's sync API, when the browser tests ran
    first in the same session, leaves a loop running on the main thread."""
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest") as pool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="viewers") as viewers,
    ):

        async def main() -> None:
            loop = asyncio.get_running_loop()

            def ingest(fn: Callable[[], T]) -> Awaitable[T]:
                return loop.run_in_executor(pool, fn)

            await test(ingest)

        viewers.submit(asyncio.run, main()).result()


def take(viewer: Viewer) -> list[LiveEvent]:
    """Everything queued for a viewer right now."""
    events: list[LiveEvent] = []
    queue = viewer._queue
    while not queue.empty():
        event = queue.get_nowait()
        assert isinstance(event, InitSegment | Fragment | type(OFFLINE)), event
        events.append(event)
    return events


def fragments(events: list[LiveEvent]) -> list[Fragment]:
    return [event for event in events if isinstance(event, Fragment)]


def decode(init: InitSegment, parts: list[Fragment]) -> list[av.VideoFrame]:
    """What a browser would show: the init segment and fragments played as one file."""
    data = io.BytesIO(init.data + b"".join(part.data for part in parts))
    with av.open(data, "r") as container:
        return list(container.decode(video=0))


def test_init_and_fragments_play_every_frame(clip: Path) -> None:
    feed = LiveFeed("CAM-1")
    player = FilePlayer(clip, feed)

    async def test(ingest: Callable[[Callable[[], int | None]], Awaitable[int | None]]) -> None:
        with feed.subscribe() as viewer:
            assert take(viewer) == [OFFLINE]  # the camera is not connected yet
            await ingest(player.open)
            await ingest(player.send)
            await ingest(player.close)
            events = take(viewer)

        init, *rest, last = events
        assert isinstance(init, InitSegment) and last == OFFLINE
        assert (init.codec, init.width, init.height) == ("avc1.64000c", 320, 180)
        assert init.data[4:8] == b"ftyp"
        parts = fragments(rest)
        assert len(parts) == SPEC.frames  # the last frame too, flushed when the stream closed
        for part in parts:  # one frame each: moof then mdat, nothing else
            moof_size = int.from_bytes(part.data[:4], "big")
            assert part.data[4:8] == b"moof" and part.data[moof_size + 4 : moof_size + 8] == b"mdat"
            assert moof_size + int.from_bytes(part.data[moof_size : moof_size + 4], "big") == len(
                part.data
            )
        assert [part.keyframe for part in parts].count(True) == 2
        assert parts[0].keyframe and parts[30].keyframe
        assert [part.pts for part in parts] == pytest.approx([i / SPEC.fps for i in range(60)])
        assert [part.arrived for part in parts] == [packet.arrived for packet in player.sent]
        frames = decode(init, parts)
        assert len(frames) == SPEC.frames
        assert (frames[0].width, frames[0].height) == (320, 180)
        assert [frame.time for frame in frames] == pytest.approx([part.pts for part in parts])

    run(test)


def test_a_late_viewer_starts_at_the_last_keyframe_at_once(clip: Path) -> None:
    feed = LiveFeed("CAM-1")
    player = FilePlayer(clip, feed)

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        await ingest(player.open)
        with feed.subscribe() as early:
            await ingest(lambda: player.send(40))
            with feed.subscribe() as late:
                backlog = take(late)
                init, first, *_ = backlog
                assert isinstance(init, InitSegment) and isinstance(first, Fragment)
                # Frames 30..38 are out; frame 39 waits in the muxer for its successor.
                assert first.keyframe and first.pts == pytest.approx(30 / SPEC.fps)
                assert len(fragments(backlog)) == 9
                await ingest(lambda: player.send(10))
                late_parts = fragments(take(late))
            early_parts = fragments(take(early))

        assert [part.pts for part in late_parts] == pytest.approx(
            [i / SPEC.fps for i in range(39, 49)]
        )
        assert early_parts[30:] == [*fragments(backlog), *late_parts]
        frames = decode(init, [*fragments(backlog), *late_parts])
        assert len(frames) == 19

    run(test)


def test_two_viewers_share_one_muxer_and_get_identical_bytes(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[object] = []
    real_init = live_module._Remuxer.__init__

    def counting_init(self: live_module._Remuxer, *args: object, **kwargs: object) -> None:
        opened.append(self)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(live_module._Remuxer, "__init__", counting_init)
    feed = LiveFeed("CAM-1")
    player = FilePlayer(clip, feed)

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        await ingest(player.open)
        with feed.subscribe() as one, feed.subscribe() as two:
            await ingest(player.send)
            assert feed.viewers == 2
            first, second = take(one), take(two)
        assert len(fragments(first)) == SPEC.frames - 1  # the last one waits for a successor
        assert first == second
        assert len(opened) == 1

    run(test)


def test_nothing_is_muxed_while_nobody_watches(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    muxed: list[VideoPacket] = []
    real_mux = live_module._Remuxer.mux

    def spying_mux(self: live_module._Remuxer, packet: VideoPacket) -> None:
        muxed.append(packet)
        real_mux(self, packet)

    monkeypatch.setattr(live_module._Remuxer, "mux", spying_mux)
    feed = LiveFeed("CAM-1")
    player = FilePlayer(clip, feed)

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        await ingest(player.open)
        await ingest(lambda: player.send(10))
        assert not feed.muxing and muxed == []

        viewer = feed.subscribe()
        assert take(viewer) == []  # nothing to show until the next keyframe
        await ingest(lambda: player.send(10))
        assert not feed.muxing and muxed == []  # frames 10..19: no keyframe among them
        await ingest(lambda: player.send(15))
        assert feed.muxing
        assert muxed[0] is player.sent[30] and len(muxed) == 5
        init, first, *_ = take(viewer)
        assert isinstance(init, InitSegment) and isinstance(first, Fragment) and first.keyframe

        viewer.close()
        await ingest(lambda: player.send(1))
        assert not feed.muxing and len(muxed) == 5
        await ingest(player.send)
        assert len(muxed) == 5

    run(test)


def test_a_slow_viewer_is_dropped_without_holding_back_the_other(clip: Path) -> None:
    feed = LiveFeed("CAM-1", max_behind_frames=10)
    player = FilePlayer(clip, feed)

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        await ingest(player.open)
        fast, slow = feed.subscribe(), feed.subscribe()
        received: list[LiveEvent] = []

        async def watch() -> None:
            async for event in fast:
                received.append(event)

        watching = asyncio.create_task(watch())
        for _ in range(SPEC.frames):
            await ingest(lambda: player.send(1))
            await asyncio.sleep(0)  # the fast viewer reads as frames come
        assert feed.viewers == 1  # the slow one is gone
        with pytest.raises(ViewerDropped, match="fell more than 10 frames behind"):
            await anext(slow)
        with pytest.raises(ViewerDropped):  # and stays dropped
            await anext(slow)
        fast.close()
        await watching
        assert len(fragments(received)) == SPEC.frames - 1

    run(test)


def test_a_reconnect_sends_offline_then_a_new_init_segment(clip: Path, small_clip: Path) -> None:
    feed = LiveFeed("CAM-1")
    first, second = FilePlayer(clip, feed), FilePlayer(small_clip, feed)

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        with feed.subscribe() as viewer:
            await ingest(first.open)
            await ingest(lambda: first.send(20))
            await ingest(first.close)
            before = take(viewer)
            assert before[-1] == OFFLINE
            assert not feed.online and not feed.muxing

            await ingest(second.open)  # the camera is back, at a lower resolution
            await ingest(second.send)
            after = take(viewer)

        assert len(fragments(before)) == 20
        init, *parts = after
        assert isinstance(init, InitSegment)
        assert (init.width, init.height) == (256, 144)
        assert fragments(parts)[0].pts == 0  # a new timeline for a new SourceBuffer
        frames = decode(init, fragments(parts))
        assert len(frames) == SMALL.frames - 1
        assert (frames[0].width, frames[0].height) == (256, 144)

    run(test)


def test_a_packet_the_muxer_refuses_restarts_it_at_the_next_keyframe(clip: Path) -> None:
    feed = LiveFeed("CAM-1")
    player = FilePlayer(clip, feed)

    def send_a_timestamp_jump_back() -> None:
        earlier = player.sent[2]
        feed.packet(replace(player.sent[-1], pts=earlier.pts, dts=earlier.dts))

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        await ingest(player.open)
        with feed.subscribe() as viewer:
            await ingest(lambda: player.send(5))
            await ingest(send_a_timestamp_jump_back)
            assert not feed.muxing
            await ingest(player.send)
            events = take(viewer)
        first, *before, second = events[: 1 + 5 + 1]
        assert isinstance(first, InitSegment) and isinstance(second, InitSegment)
        assert len(fragments(before)) == 5  # the frame held in the muxer was flushed first
        after = fragments(events[7:])
        assert after[0].keyframe and after[0].pts == 0  # frame 30, on a new timeline
        assert len(decode(second, after)) == SPEC.frames - 30 - 1

    run(test)


def test_closing_a_viewer_ends_its_iteration() -> None:
    feed = LiveFeed("CAM-1")

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        viewer = feed.subscribe()
        assert await anext(viewer) == OFFLINE
        asyncio.get_running_loop().call_later(0.01, viewer.close)
        assert [event async for event in viewer] == []
        assert viewer.closed and feed.viewers == 0

    run(test)


def test_hevc_codec_string(tmp_path: Path) -> None:
    path = tmp_path / "hevc.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx265", rate=15, options={"x265-params": "log-level=0"})
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for index in range(3):
            frame = av.VideoFrame(320, 180, "yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    feed = LiveFeed("CAM-H")
    player = FilePlayer(path, feed)

    async def test(ingest: Callable[[Callable[[], object]], Awaitable[object]]) -> None:
        with feed.subscribe() as viewer:
            await ingest(player.open)
            await ingest(player.send)
            await ingest(player.close)
            offline, init, *_ = take(viewer)
        assert offline == OFFLINE and isinstance(init, InitSegment)
        # Main profile, level 2 (60 = 2 x 30), no tier, progressive source + frame-only flags.
        assert init.codec == "hev1.1.6.L60.90"

    run(test)


def test_hevc_codec_string_from_a_configuration_record() -> None:
    # Main 10 (compatible with profile 1), high tier, level 5.1, progressive source.
    record = bytes([1, 0x22, 0x40, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 153])
    assert hevc_codec_suffix(record) == "2.2.H153.B0"


def test_codec_string_of_something_unreadable_is_empty() -> None:
    assert init_codec(b"") == ""
