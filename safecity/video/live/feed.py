"""Live view: a camera's packets remuxed, never decoded or transcoded, into fragmented MP4 that a
browser plays with Media Source Extensions.

One ``LiveFeed`` per camera sits on ingest as a ``PacketSink``. It runs one muxer for all of
the camera's viewers (fan-out costs a queue per viewer, not a muxer) and none while nobody
watches. Every frame leaves as its own ``moof+mdat`` fragment; the feed keeps the init segment
(``ftyp+moov``) and the fragments since the last keyframe, so a viewer who arrives mid-stream
gets a decodable start at once instead of waiting up to a GOP.

Threads: ingest calls the sink methods on its own thread and PyAV's muxer lives there (it copies
its codec parameters from the live input stream, which exists only during sink calls).
Viewers are asyncio consumers; each fragment reaches them through one
``loop.call_soon_threadsafe`` per event loop, and each viewer has a bounded queue. A viewer that
cannot keep up is dropped with a reason instead of slowing ingest or the other viewers.

Latency: FFmpeg's ``frag_every_frame`` closes a frame's fragment when the next packet arrives
(that is when the frame's exact duration is known), so a fragment leaves one frame interval
after its packet arrived (40 ms at 25 fps). PyAV has no call that flushes a fragment earlier
(``av_write_frame(ctx, NULL)`` with ``frag_custom``), and with ``frag_custom`` alone nothing is
written until the muxer closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

import av

from safecity.video.ingest.packets import StreamInfo, VideoPacket
from safecity.video.mp4.boxes import BoxCutter, init_codec

log = logging.getLogger(__name__)

LIVE_MOVFLAGS = "empty_moov+default_base_moof+frag_every_frame"
"""An init segment with no samples, fragments addressed from their own moof (what MSE wants),
one fragment per frame."""
MAX_BEHIND_FRAMES = 100
"""A viewer with this many fragments queued past its start is dropped (4 s at 25 fps)."""
MAX_GOP_BYTES = 32 * 1024 * 1024
"""Past this, the fragments since the last keyframe are not kept for late viewers (a camera
with a very long GOP); they wait for the next keyframe instead."""


@dataclass(frozen=True, slots=True)
class InitSegment:
    """``ftyp+moov``: what a browser's SourceBuffer needs before any fragment of this stream."""

    data: bytes
    codec: str
    """RFC 6381 codec string for ``MediaSource.addSourceBuffer``, e.g. ``avc1.64001f``."""
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Fragment:
    """One frame as ``moof+mdat``."""

    data: bytes
    pts: float
    """Presentation time in seconds on its init segment's timeline: what the browser's
    ``video.currentTime`` reads while this frame is on screen."""
    arrived: float
    """Wall-clock time (``time.time()``) when ingest received the frame's packet."""
    keyframe: bool


@dataclass(frozen=True, slots=True)
class StreamOffline:
    """The camera's connection ended; a new init segment follows when it is back."""


LiveEvent = InitSegment | Fragment | StreamOffline
OFFLINE = StreamOffline()


class ViewerDropped(Exception):
    """The viewer fell too far behind the live stream and was disconnected from it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LiveFeeds(Protocol):
    """Where the API finds a camera's live feed: the video node that ingests it."""

    def live_feed(self, camera_code: str) -> LiveFeed | None:
        """The camera's feed; None when this node does not ingest the camera."""
        ...


class _Closed:
    """Queue sentinel: the viewer was closed or dropped."""


_CLOSED = _Closed()


class Viewer:
    """One consumer of a feed, on one asyncio event loop: an async iterator of ``LiveEvent``.

    Events come in playable order: an ``InitSegment`` (again after every reconnect of the
    camera), then ``Fragment``s starting at a keyframe, and ``OFFLINE`` when the camera drops.
    Iteration ends when the viewer is closed and raises ``ViewerDropped`` when the feed gave up
    on it. Use it as a context manager so it always unsubscribes.
    """

    def __init__(
        self, feed: LiveFeed, loop: asyncio.AbstractEventLoop, backlog: int, max_behind: int
    ) -> None:
        self._feed = feed
        self.loop = loop
        # Room for the backlog, a reconnect's offline + init segment, and the allowed lag.
        self._queue: asyncio.Queue[LiveEvent | _Closed] = asyncio.Queue(
            maxsize=backlog + 2 + max_behind
        )
        self._max_behind = max_behind
        self._closed = False
        self.dropped_reason: str | None = None

    def __enter__(self) -> Viewer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> Viewer:
        return self

    async def __anext__(self) -> LiveEvent:
        event = await self._queue.get()
        if isinstance(event, _Closed):
            self._queue.put_nowait(event)  # later calls end the same way
            if self.dropped_reason is not None:
                raise ViewerDropped(self.dropped_reason)
            raise StopAsyncIteration
        return event

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop receiving; whatever was queued is discarded. Call on the viewer's loop."""
        if self._closed:
            return
        self._closed = True
        self._feed._unsubscribe(self)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_CLOSED)

    def _drop(self, reason: str) -> None:
        """End the viewer with a reason (on its loop): ``ViewerDropped`` for the endpoint."""
        if not self._closed:
            self.dropped_reason = reason
            self.close()

    def _offer(self, events: tuple[LiveEvent, ...]) -> None:
        """Queue events (on the viewer's loop); a full queue means the viewer fell behind."""
        if self._closed:
            return
        for event in events:
            try:
                self._queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped_reason = (
                    f"fell more than {self._max_behind} frames behind the live stream"
                )
                log.info("live %s: viewer dropped, %s", self._feed.camera_code, self.dropped_reason)
                self.close()
                return


Delivery = list[tuple[Viewer, tuple[LiveEvent, ...]]]


def _deliver(batch: Delivery) -> None:
    for viewer, events in batch:
        viewer._offer(events)


class LiveFeed:
    """A camera's live view. Implements ``PacketSink`` for ingest; ``subscribe()`` for viewers."""

    def __init__(
        self,
        camera_code: str,
        *,
        max_behind_frames: int = MAX_BEHIND_FRAMES,
        max_gop_bytes: int = MAX_GOP_BYTES,
    ) -> None:
        self.camera_code = camera_code
        self.max_behind_frames = max_behind_frames
        self.max_gop_bytes = max_gop_bytes
        self._lock = threading.Lock()
        # Shared with viewers' loops, under the lock.
        self._online = False
        self._init: InitSegment | None = None
        self._gop: list[Fragment] = []
        self._gop_bytes = 0
        self._active: set[Viewer] = set()
        """Get every fragment of the current muxer."""
        self._waiting: set[Viewer] = set()
        """Get the init segment and the next keyframe, then join ``_active``."""
        # Ingest thread only.
        self._info: StreamInfo | None = None
        self._muxer: _Remuxer | None = None

    # --- PacketSink (the ingest thread) ------------------------------------------------------

    def stream_opened(self, info: StreamInfo) -> None:
        self._stop_muxing()  # a new connection without a close: start over, as after one
        self._info = info
        with self._lock:
            self._online = True

    def packet(self, packet: VideoPacket) -> None:
        with self._lock:
            wanted = bool(self._active or self._waiting)
        if not wanted:
            if self._muxer is not None:
                self._stop_muxing()
            return
        info = self._info
        if info is None:
            return
        if self._muxer is None:
            if not packet.keyframe:
                return  # a browser can only start decoding at a keyframe
            try:
                self._muxer = _Remuxer(info, packet.dts, self._init_ready, self._fragment_ready)
            except (av.FFmpegError, ValueError) as error:
                log.warning("live %s: cannot start the muxer: %s", self.camera_code, error)
                return
        try:
            self._muxer.mux(packet)
        except (av.FFmpegError, ValueError) as error:
            # A timestamp jump the muxer refuses, say: start over at the next keyframe, and the
            # viewers get a fresh init segment.
            log.warning("live %s: muxer restarted: %s", self.camera_code, error)
            self._stop_muxing()

    def stream_closed(self) -> None:
        self._stop_muxing()  # flushes the last frame to the viewers first
        self._info = None
        with self._lock:
            self._online = False
            viewers = self._active | self._waiting
            self._waiting = viewers
            self._active = set()
        self._dispatch([(viewer, (OFFLINE,)) for viewer in viewers])

    def end(self, reason: str) -> None:
        """Drop every viewer (from any thread): this feed no longer serves the camera (it was
        removed from the node or pointed at a new URL). Players reconnect and find the new one."""
        with self._lock:
            viewers = self._active | self._waiting
            self._active, self._waiting = set(), set()
        for viewer in viewers:
            with contextlib.suppress(RuntimeError):  # that viewer's event loop has closed
                viewer.loop.call_soon_threadsafe(viewer._drop, reason)

    # --- viewers (their event loops) ---------------------------------------------------------

    def subscribe(self) -> Viewer:
        """A new viewer on the running event loop. It gets the init segment and the frames since
        the last keyframe at once when the feed is muxing, otherwise its first frames start at
        the next keyframe; ``OFFLINE`` first when the camera is not connected."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._init is not None and self._gop:
                backlog: tuple[LiveEvent, ...] = (self._init, *self._gop)
            else:
                backlog = () if self._online else (OFFLINE,)
            viewer = Viewer(self, loop, len(backlog), self.max_behind_frames)
            if self._init is not None and self._gop:
                self._active.add(viewer)
            else:
                self._waiting.add(viewer)
        # Later events are scheduled with call_soon_threadsafe, so they queue behind these.
        viewer._offer(backlog)
        return viewer

    @property
    def viewers(self) -> int:
        with self._lock:
            return len(self._active) + len(self._waiting)

    @property
    def online(self) -> bool:
        with self._lock:
            return self._online

    @property
    def muxing(self) -> bool:
        return self._muxer is not None

    def _unsubscribe(self, viewer: Viewer) -> None:
        with self._lock:
            self._active.discard(viewer)
            self._waiting.discard(viewer)

    # --- muxer output (the ingest thread, inside mux/close) ----------------------------------

    def _init_ready(self, init: InitSegment) -> None:
        with self._lock:
            self._init = init

    def _fragment_ready(self, fragment: Fragment) -> None:
        with self._lock:
            init = self._init
            if fragment.keyframe:
                self._gop, self._gop_bytes = [fragment], len(fragment.data)
            elif self._gop:
                self._gop.append(fragment)
                self._gop_bytes += len(fragment.data)
                if self._gop_bytes > self.max_gop_bytes:
                    self._gop, self._gop_bytes = [], 0
            batch: Delivery = [(viewer, (fragment,)) for viewer in self._active]
            if fragment.keyframe and init is not None:
                batch += [(viewer, (init, fragment)) for viewer in self._waiting]
                self._active |= self._waiting
                self._waiting = set()
        self._dispatch(batch)

    def _stop_muxing(self) -> None:
        muxer, self._muxer = self._muxer, None
        if muxer is not None:
            muxer.close()
        with self._lock:
            self._init, self._gop, self._gop_bytes = None, [], 0
            # The next muxer starts a new timeline: everyone starts again from its init segment.
            self._waiting |= self._active
            self._active = set()

    def _dispatch(self, batch: Delivery) -> None:
        """Hand events to the viewers' loops: one thread-safe call per loop, not per viewer."""
        by_loop: dict[asyncio.AbstractEventLoop, Delivery] = {}
        for viewer, events in batch:
            by_loop.setdefault(viewer.loop, []).append((viewer, events))
        for loop, part in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, part)
            except RuntimeError:  # the loop is closed: its viewers are gone
                for viewer, _ in part:
                    self._unsubscribe(viewer)


class _Remuxer:
    """PyAV's MP4 muxer writing fragmented MP4 into memory, one fragment per frame.

    Timestamps are shifted so that the first frame (a keyframe) is at 0: each muxer is a new
    timeline for the browser, which starts a fresh SourceBuffer with each init segment.
    """

    def __init__(
        self,
        info: StreamInfo,
        base_dts: int,
        on_init: Callable[[InitSegment], None],
        on_fragment: Callable[[Fragment], None],
    ) -> None:
        self._info = info
        self._base = base_dts
        self._on_init = on_init
        self._on_fragment = on_fragment
        self._header = bytearray()
        self._moof: bytes | None = None
        self._pending: deque[VideoPacket] = deque()
        """Muxed packets whose fragment has not come out yet (the muxer holds one frame)."""
        self._boxes = BoxCutter(self._box)
        self._container = av.open(
            self._boxes,
            "w",
            format="mp4",
            options={"movflags": LIVE_MOVFLAGS, "flush_packets": "1"},
        )
        self._stream = self._container.add_stream_from_template(info.template)

    def mux(self, packet: VideoPacket) -> None:
        out = av.Packet(packet.data)
        out.stream = self._stream
        out.time_base = self._info.time_base
        out.pts, out.dts = packet.pts - self._base, packet.dts - self._base
        if packet.duration > 0:
            out.duration = packet.duration
        out.is_keyframe = packet.keyframe
        self._pending.append(packet)
        self._container.mux(out)

    def close(self) -> None:
        """Write the last frame's fragment and release the muxer."""
        try:
            self._container.close()
        except (av.FFmpegError, ValueError) as error:
            log.warning("live %s: muxer did not close cleanly: %s", self._info.camera_code, error)

    def _box(self, kind: bytes, box: bytes) -> None:
        if kind in (b"ftyp", b"moov"):
            self._header += box
            if kind == b"moov":
                init = bytes(self._header)
                info = self._info
                self._on_init(InitSegment(init, init_codec(init), info.width, info.height))
        elif kind == b"moof":
            self._moof = box
        elif kind == b"mdat" and self._moof is not None and self._pending:
            packet = self._pending.popleft()
            self._on_fragment(
                Fragment(
                    data=self._moof + box,
                    pts=float((packet.pts - self._base) * self._info.time_base),
                    arrived=packet.arrived,
                    keyframe=packet.keyframe,
                )
            )
            self._moof = None
        # Anything else (the mfra index written at close) is of no use to a live viewer.
