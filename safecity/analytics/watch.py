"""One live camera's analysis: a packet sink that never holds up ingest, and the thread that
decodes and analyses.

Ingest hands packets over on its own thread, which also feeds the recorder: it must never
wait for the analytics. So ``packet`` only appends to a bounded queue. When the queue is full
(the analysis is behind: a busy node, a slow detector) packets are let go until the next
keyframe — a P-frame cannot be decoded without the ones before it — and each one let go is
counted as a skipped frame. A frame whose packet reached ingest more than ``max_lag_seconds``
ago is skipped too: an alert about the past minute helps nobody. Memory stays
bounded whatever the camera sends; the figures say what was skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from safecity.analytics.decoding import DecodeOptions, FrameDecoder
from safecity.analytics.frames import Frame
from safecity.video.ingest.packets import StreamInfo, VideoPacket

log = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 10.0


@dataclass(frozen=True)
class WatchOptions:
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    queue_packets: int = 64
    """Packets waiting for the decoder at most (2.5 s of a 25 fps stream)."""
    max_lag_seconds: float = 2.0
    """A frame further behind the camera's clock than this is skipped, not analysed."""


@dataclass(frozen=True)
class WatchFigures:
    """What one camera's analysis did over the last ``RATE_WINDOW_SECONDS``."""

    decode_fps: float
    analysed_fps: float
    skipped_fps: float
    """Frames let go because the analysis was behind (queue full, or too late)."""
    skipped: int
    """Frames let go since the start."""
    errors: int
    """Packets the decoder refused, and analyses that failed, since the start."""
    streaming: bool
    """A stream is connected (the camera's sub-stream, or its main stream): False while it is
    down or has not come yet."""


class _Rates:
    """Events per second over a sliding window, counted in whole-second buckets."""

    def __init__(self, window: float = RATE_WINDOW_SECONDS) -> None:
        self._window = window
        self._buckets: deque[list[float]] = deque()  # [second, count]
        self._lock = threading.Lock()
        self._since = time.monotonic()

    def add(self, count: int = 1, now: float | None = None) -> None:
        second = float(int(now if now is not None else time.monotonic()))
        with self._lock:
            if self._buckets and self._buckets[-1][0] == second:
                self._buckets[-1][1] += count
            else:
                self._buckets.append([second, float(count)])
            self._trim(second)

    def rate(self, now: float | None = None) -> float:
        """Per second, over the whole seconds of the window (or since this was made, if that
        is shorter): the second under way is left out, half counted as it is."""
        now = now if now is not None else time.monotonic()
        current = float(int(now))
        with self._lock:
            self._trim(now)
            total = sum(count for second, count in self._buckets if second < current)
        span = min(self._window - 1, current - self._since)
        return total / max(1.0, span)

    def _trim(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - self._window:
            self._buckets.popleft()


_OPEN = "open"
_PACKET = "packet"
_CLOSED = "closed"
_SKIPPED = "skipped"


class CameraWatch:
    """Implements ``PacketSink``. ``analyse`` is called on the watch's own thread, one frame at
    a time; an exception from it is logged and counted, and the next frame is analysed."""

    def __init__(
        self,
        camera_code: str,
        analyse: Callable[[Frame], None],
        options: WatchOptions = WatchOptions(),
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.camera_code = camera_code
        self._analyse = analyse
        self._options = options
        self._clock = clock
        self._queue: deque[tuple[str, object]] = deque()
        self._packets_queued = 0
        self._letting_go = False
        self._ready = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._decoder: FrameDecoder | None = None
        self._decoded = _Rates()
        self._analysed = _Rates()
        self._skipped_rate = _Rates()
        self._skipped = 0
        self._errors = 0
        self._streaming = False

    # -- life --------------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name=f"analytics-{self.camera_code}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- PacketSink (ingest's thread: never waits) -------------------------------------------

    def stream_opened(self, info: StreamInfo) -> None:
        self._streaming = True
        self._put(_OPEN, info)

    def packet(self, packet: VideoPacket) -> None:
        with self._ready:
            if self._letting_go and not packet.keyframe:
                self._skip(1)
                return
            if self._packets_queued >= self._options.queue_packets:
                self._letting_go = True
                self._skip(1)
                return
            if self._letting_go:  # a keyframe with room for it: decoding can start again
                self._letting_go = False
                self._queue.append((_SKIPPED, None))
            self._queue.append((_PACKET, packet))
            self._packets_queued += 1
            self._ready.notify()

    def stream_closed(self) -> None:
        self._streaming = False
        self._put(_CLOSED, None)

    def _put(self, kind: str, item: object) -> None:
        with self._ready:
            self._queue.append((kind, item))
            self._ready.notify()

    def _skip(self, count: int) -> None:
        self._skipped += count
        self._skipped_rate.add(count)

    # -- the watch's thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if self._stopping:
                    return
                kind, item = self._queue.popleft()
                if kind == _PACKET:
                    self._packets_queued -= 1
            try:
                self._take(kind, item)
            except Exception:
                self._errors += 1
                log.exception("camera %s: analysis failed on a frame", self.camera_code)

    def _take(self, kind: str, item: object) -> None:
        if kind == _OPEN:
            assert isinstance(item, StreamInfo)
            self._decoder = FrameDecoder(item, self._options.decode)
        elif kind == _CLOSED:
            self._decoder = None
        elif kind == _SKIPPED:
            if self._decoder is not None:
                self._decoder.skip_to_keyframe()
        elif self._decoder is not None:
            assert isinstance(item, VideoPacket)
            before = self._decoder.figures.decoded
            errors = self._decoder.figures.errors
            frame = self._decoder.decode(item)
            self._decoded.add(self._decoder.figures.decoded - before)
            self._errors += self._decoder.figures.errors - errors
            if frame is None:
                return
            # Behind by the server's clock, from when ingest got the packet: a camera's own
            # clock may run a little fast or slow.
            if self._clock() - item.arrived > self._options.max_lag_seconds:
                with self._ready:
                    self._skip(1)
                return
            self._analysed.add()
            self._analyse(frame)

    # -- figures -----------------------------------------------------------------------------

    def figures(self) -> WatchFigures:
        return WatchFigures(
            decode_fps=round(self._decoded.rate(), 2),
            analysed_fps=round(self._analysed.rate(), 2),
            skipped_fps=round(self._skipped_rate.rate(), 2),
            skipped=self._skipped,
            errors=self._errors,
            streaming=self._streaming,
        )
