"""Ingest on real streams: RTSP over TCP and UDP from a local server, files, and every way a
camera can fail — each a clear status, never a dead worker or a disturbed neighbour."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from safecity.core.backoff import Backoff
from safecity.video.ingest.packets import StreamInfo, VideoPacket
from safecity.video.ingest.worker import IngestOptions, IngestWorker, classify, describe_source
from safecity.video.models import StreamStatus
from tests.support.recording import street_clip
from tests.support.rtsp import LIVE, SECURE, RtspServer

FAST = IngestOptions(connect_timeout=5.0, stall_seconds=2.0, backoff_initial=0.2, backoff_max=1.0)


class Collector:
    """A sink that remembers what it was given."""

    def __init__(self) -> None:
        self.opened: list[StreamInfo] = []
        self.packets: list[VideoPacket] = []
        self.closed = 0
        self.lock = threading.Lock()

    def stream_opened(self, info: StreamInfo) -> None:
        with self.lock:
            self.opened.append(info)

    def packet(self, packet: VideoPacket) -> None:
        with self.lock:
            self.packets.append(packet)

    def stream_closed(self) -> None:
        with self.lock:
            self.closed += 1


class Exploding(Collector):
    def packet(self, packet: VideoPacket) -> None:
        raise RuntimeError("this sink is broken")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def worker_factory() -> Iterator[Callable[..., IngestWorker]]:
    started: list[IngestWorker] = []

    def make(url: str, *sinks: Collector, options: IngestOptions = FAST) -> IngestWorker:
        worker = IngestWorker("AST-1", url, list(sinks), options)
        worker.start()
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_stream_is_pulled_from_a_keyframe_with_health(
    rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker], transport: str
) -> None:
    sink = Collector()
    options = IngestOptions(rtsp_transport=transport, stall_seconds=3.0)
    worker = worker_factory(rtsp_server.url(LIVE), sink, options=options)
    wait_for(lambda: len(sink.packets) >= 45, what="3 s of packets")
    health = worker.health()
    assert health.status is StreamStatus.ONLINE
    assert health.detail is None
    assert 12 <= health.fps <= 18, "the mount sends 15 fps"
    assert health.bitrate_kbps > 10
    assert (health.width, health.height, health.codec) == (320, 180, "h264")
    assert health.last_packet_at is not None and health.connected_since is not None
    info = sink.opened[0]
    assert info.codec == "h264" and info.time_base == Fraction(1, 90000)
    packets = list(sink.packets)
    assert packets[0].keyframe, "sinks start on a keyframe"
    assert all(a.dts < b.dts for a, b in itertools.pairwise(packets))
    keyframes = [p for p in packets if p.keyframe]
    assert len(keyframes) >= 2
    gop = (keyframes[1].pts - keyframes[0].pts) / 90000
    assert gop == pytest.approx(1.0, abs=0.1), "the mount's 1 s GOP"


def test_a_dead_address_is_unreachable_and_retried(
    worker_factory: Callable[..., IngestWorker],
) -> None:
    worker = worker_factory(f"rtsp://127.0.0.1:{free_port()}/live")
    wait_for(lambda: worker.health().reconnects >= 2, what="two retries")
    health = worker.health()
    assert health.status is StreamStatus.UNREACHABLE
    assert health.detail == "connection refused"
    assert worker.running, "a dead camera never kills its worker"


def test_a_wrong_password_is_unauthorized(
    rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker]
) -> None:
    worker = worker_factory(rtsp_server.url(SECURE, "viewer", "wrong"))
    wait_for(lambda: worker.health().status is StreamStatus.UNAUTHORIZED, what="401")
    assert "password" in (worker.health().detail or "")


def test_the_right_password_is_let_in(
    rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker]
) -> None:
    sink = Collector()
    worker = worker_factory(rtsp_server.url(SECURE, "viewer", "s3cret"), sink)
    wait_for(lambda: len(sink.packets) > 10, what="packets")
    assert worker.health().status is StreamStatus.ONLINE


def test_an_unknown_stream_path_is_not_found(
    rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker]
) -> None:
    worker = worker_factory(rtsp_server.url("/no-such-stream"))
    wait_for(lambda: worker.health().status is StreamStatus.NOT_FOUND, what="404")


def test_a_stalled_stream_is_reported_and_recovers(
    private_rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker]
) -> None:
    sink = Collector()
    worker = worker_factory(private_rtsp_server.url(LIVE), sink)
    wait_for(lambda: len(sink.packets) > 15, what="packets")
    private_rtsp_server.pause()
    try:
        wait_for(lambda: worker.health().status is StreamStatus.STALLED, what="stall")
        assert worker.health().detail == "the stream stopped sending video"
        assert sink.closed >= 1, "the recorder is told the stream ended"
    finally:
        private_rtsp_server.resume()
    wait_for(lambda: worker.health().status is StreamStatus.ONLINE, timeout=30, what="back")
    assert worker.health().gaps == 1
    assert len(sink.opened) == 2


def test_a_stream_cut_mid_way_comes_back_after_the_camera_does(
    private_rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker]
) -> None:
    sink = Collector()
    worker = worker_factory(private_rtsp_server.url(LIVE), sink)
    wait_for(lambda: len(sink.packets) > 15, what="packets")
    private_rtsp_server.stop()
    wait_for(lambda: worker.health().status is not StreamStatus.ONLINE, what="loss")
    assert worker.health().status in {StreamStatus.OFFLINE, StreamStatus.UNREACHABLE}
    assert worker.health().fps == 0.0
    before = len(sink.packets)
    private_rtsp_server.restart()
    wait_for(lambda: len(sink.packets) > before + 15, timeout=30, what="packets again")
    health = worker.health()
    assert health.status is StreamStatus.ONLINE
    assert health.reconnects >= 1 and health.gaps == 1
    assert sink.packets[before].keyframe, "after the cut, sinks restart on a keyframe"


def test_one_failing_camera_and_one_broken_sink_disturb_nothing_else(
    rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker]
) -> None:
    good, broken = Collector(), Exploding()
    live = worker_factory(rtsp_server.url(LIVE), broken, good)
    dead = worker_factory(f"rtsp://127.0.0.1:{free_port()}/x")
    wait_for(lambda: len(good.packets) > 30 and dead.health().reconnects >= 1, what="both")
    assert live.health().status is StreamStatus.ONLINE
    assert dead.health().status is StreamStatus.UNREACHABLE


def test_a_file_plays_at_real_time_and_loops_with_growing_timestamps(
    tmp_path: Path, worker_factory: Callable[..., IngestWorker]
) -> None:
    from safecity.video.ingest.synthetic import VideoSpec

    clip = street_clip(tmp_path, VideoSpec(width=160, height=96, fps=15, seconds=2, gop_seconds=1))
    sink = Collector()
    began = time.monotonic()
    worker = worker_factory(clip.as_uri(), sink)
    wait_for(lambda: len(sink.packets) >= 45, what="3 s")
    elapsed = time.monotonic() - began
    assert elapsed >= 2.5, "paced at real time, not as fast as the disk reads"
    assert worker.health().loops >= 1
    pts = [p.pts for p in sink.packets]
    assert pts == sorted(pts) and len(set(pts)) == len(pts), "loops keep time moving forward"
    assert len(sink.opened) == 1, "a loop is not a reconnection"


def test_a_missing_file_is_not_found(
    tmp_path: Path, worker_factory: Callable[..., IngestWorker]
) -> None:
    worker = worker_factory((tmp_path / "gone.mp4").as_uri())
    wait_for(lambda: worker.health().status is StreamStatus.NOT_FOUND, what="not found")


def test_garbage_is_corrupt(tmp_path: Path, worker_factory: Callable[..., IngestWorker]) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(1).bytes(200_000))
    worker = worker_factory(junk.as_uri())
    wait_for(lambda: worker.health().status is StreamStatus.CORRUPT, what="corrupt")


def test_video_that_would_need_transcoding_is_unsupported(
    tmp_path: Path, worker_factory: Callable[..., IngestWorker]
) -> None:
    mjpeg = tmp_path / "mjpeg.avi"
    with av.open(str(mjpeg), "w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        for _ in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            container.mux(stream.encode(frame.reformat(format="yuvj420p")))
        container.mux(stream.encode(None))
    worker = worker_factory(mjpeg.as_uri())
    wait_for(lambda: worker.health().status is StreamStatus.UNSUPPORTED, what="unsupported")
    assert "H.264" in (worker.health().detail or "")


def test_unknown_schemes_are_refused_up_front() -> None:
    with pytest.raises(Exception, match="cannot ingest ftp"):
        describe_source("ftp://camera/stream", "tcp", 5.0)


def test_stop_is_prompt_and_closes_the_stream(
    rtsp_server: RtspServer, worker_factory: Callable[..., IngestWorker]
) -> None:
    sink = Collector()
    worker = worker_factory(rtsp_server.url(LIVE), sink)
    wait_for(lambda: len(sink.packets) > 5, what="packets")
    began = time.monotonic()
    worker.stop()
    assert time.monotonic() - began < 3.0
    assert not worker.running
    assert sink.closed == 1
    assert worker.health().status is StreamStatus.STOPPED


@pytest.mark.parametrize(
    "error",
    [
        av.error.HTTPServerError,
        av.error.HTTPBadRequestError,
        av.error.UnknownError,
        av.error.BugError,
    ],
)
def test_a_failure_never_repeats_the_stream_password(error: type[av.error.FFmpegError]) -> None:
    exc = error(1, "failed", "rtsp://admin:S3cret@10.0.0.7:554/main")
    detail = classify(exc, connected=False).detail
    assert "S3cret" not in detail and "rtsp://" not in detail
    assert detail


def test_a_busy_camera_is_unreachable_in_plain_words() -> None:
    exc = av.error.HTTPServerError(1, "Server returned 5XX", "rtsp://10.0.0.7/main")
    error = classify(exc, connected=False)
    assert error.status is StreamStatus.UNREACHABLE
    assert "server error" in error.detail


def test_attempts_that_time_out_keep_backing_off(
    worker_factory: Callable[..., IngestWorker],
) -> None:
    backoff = Backoff(0.05, 10.0, jitter=0.0)
    worker = IngestWorker(
        "AST-1",
        f"rtsp://127.0.0.1:{free_port()}/x",
        [],
        IngestOptions(backoff_initial=0.05, backoff_max=10.0, healthy_after=0.0),
        backoff=backoff,
    )
    worker.start()
    try:
        wait_for(lambda: backoff.attempts >= 4, what="four attempts")
    finally:
        worker.stop()
    assert backoff.attempts >= 4, "no video ever flowed, so the wait kept doubling"


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain HTTP server on a folder, as a camera or encoder serving a stream over HTTP."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def test_an_http_stream_is_pulled_and_its_end_is_a_reconnect(
    http_folder: tuple[str, Path],
    worker_factory: Callable[..., IngestWorker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="safecity.video.ingest.worker")
    base, folder = http_folder
    from safecity.video.ingest.synthetic import VideoSpec

    clip = street_clip(folder, VideoSpec(width=160, height=96, fps=15, seconds=2, gop_seconds=1))
    transport_stream = folder / "camera.ts"
    with av.open(str(clip)) as source, av.open(str(transport_stream), "w") as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    sink = Collector()
    worker = worker_factory(f"{base}/camera.ts", sink)
    wait_for(lambda: len(sink.packets) >= 30 and sink.closed >= 1, what="the whole stream")
    assert sink.packets[0].keyframe
    assert sink.opened[0].codec == "h264"
    wait_for(lambda: worker.health().reconnects >= 1, what="a reconnect after the end")
    wait_for(lambda: len(sink.opened) >= 2, what="the stream again")
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("WARNING", "camera AST-1 lost: the stream ended") in said, said
    assert ("INFO", "camera AST-1 online: h264 160x96") in said, said
    assert ("INFO", "camera AST-1 online: h264 160x96, after 1 reconnect(s)") in said, said
    missing = worker_factory(f"{base}/no-such.ts")
    wait_for(lambda: missing.health().status is StreamStatus.NOT_FOUND, what="HTTP 404")
