"""Ingest: one worker thread per camera pulls its stream and hands packets to the sinks.

A worker opens the camera's URL with PyAV (RTSP over TCP or UDP, HTTP, or a file), waits for
the first keyframe, then passes every compressed packet — never decoded — to its sinks (the
recorder, the live view, the snapshot buffer). Whatever goes wrong with a camera (a dead URL,
a wrong password, a stall, corrupt data) becomes a ``StreamStatus`` with a plain-words detail,
and the worker reconnects with doubling, jittered waits. Nothing a camera sends can stop the
worker or touch another camera.

File sources play at real time and loop, as a camera would send them: that is how simulated
cameras (the demo, tests) use the same path as real ones.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import av
import av.error
from av.video.stream import VideoStream

from safecity.city.stream_urls import without_password
from safecity.core.backoff import Backoff
from safecity.video.ingest.packets import PacketSink, StreamInfo, VideoPacket
from safecity.video.models import StreamStatus

log = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 3.0
"""fps and bitrate are measured over the packets of this last stretch of time."""
SUPPORTED_CODECS = ("h264", "hevc")
REANCHOR_AFTER_SECONDS = 2.0
"""When a stream's clock and the wall clock disagree by more than this, the recording time is
re-anchored at the next keyframe (camera clocks drift, and a looping file restarts)."""
RESYNC_AFTER_SECONDS = 1.0
"""A file source further behind its schedule than this (a suspended machine) restarts its
clock instead of sending a burst."""


@dataclass(frozen=True)
class IngestOptions:
    rtsp_transport: str = "tcp"
    connect_timeout: float = 10.0
    stall_seconds: float = 5.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    healthy_after: float = 10.0
    """A connection that lasted this long resets the backoff to its first wait."""


@dataclass(frozen=True)
class IngestHealth:
    camera_code: str
    status: StreamStatus
    detail: str | None
    fps: float
    bitrate_kbps: float
    last_packet_at: datetime | None
    connected_since: datetime | None
    reconnects: int
    gaps: int
    packets: int
    dropped: int
    """Packets thrown away: no timestamp, or time running backwards."""
    width: int | None
    height: int | None
    codec: str | None
    loops: int
    """How many times a looping file source has played to its end."""

    @property
    def online(self) -> bool:
        return self.status is StreamStatus.ONLINE


class SourceError(Exception):
    """A camera's stream cannot be used right now; ``status`` says which way."""

    def __init__(self, status: StreamStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def classify(exc: BaseException, *, connected: bool) -> SourceError:
    """Turn what PyAV/FFmpeg raised into a status an operator can act on."""
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return SourceError(StreamStatus.UNAUTHORIZED, "the camera refused the user or password")
    if isinstance(exc, av.error.HTTPNotFoundError | FileNotFoundError):
        return SourceError(StreamStatus.NOT_FOUND, "no stream at that address")
    if isinstance(exc, av.error.HTTPServerError):
        return SourceError(
            StreamStatus.UNREACHABLE,
            "the camera answered with a server error (busy, too many sessions, or failing)",
        )
    if isinstance(exc, av.error.HTTPClientError):
        return SourceError(StreamStatus.NOT_FOUND, "the camera refused the request for the stream")
    if isinstance(exc, av.error.ExitError | TimeoutError):
        if connected:
            return SourceError(StreamStatus.STALLED, "the stream stopped sending video")
        return SourceError(StreamStatus.UNREACHABLE, "the camera did not answer in time")
    if isinstance(exc, av.error.InvalidDataError):
        return SourceError(StreamStatus.CORRUPT, "the stream sends data that is not valid video")
    if isinstance(exc, av.error.EOFError):
        return SourceError(StreamStatus.OFFLINE, "the camera closed the stream")
    if isinstance(exc, OSError):
        unreachable = {
            errno.ECONNREFUSED: "connection refused",
            errno.EHOSTUNREACH: "host unreachable",
            errno.ENETUNREACH: "network unreachable",
            errno.ETIMEDOUT: "connection timed out",
            errno.ECONNRESET: "connection reset",
            errno.EPIPE: "connection broken",
        }
        if exc.errno in unreachable:
            status = StreamStatus.OFFLINE if connected else StreamStatus.UNREACHABLE
            return SourceError(status, unreachable[exc.errno])
        status = StreamStatus.OFFLINE if connected else StreamStatus.UNREACHABLE
        return SourceError(status, (exc.strerror or type(exc).__name__).strip().lower())
    # Never the raw message: FFmpeg puts the URL, password included, into its errors.
    return SourceError(StreamStatus.OFFLINE, f"the stream failed ({_error_name(exc)})")


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return str(exc.strerror)
    return type(exc).__name__


@dataclass(frozen=True)
class Source:
    """How to open a stream URL."""

    url: str
    """What PyAV opens (a file path for file sources)."""
    options: dict[str, str]
    realtime_loop: bool
    """A file: play it at real time, over and over."""


def describe_source(url: str, rtsp_transport: str, stall_seconds: float) -> Source:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        options = {
            "rtsp_transport": rtsp_transport,
            "timeout": str(int(stall_seconds * 1_000_000)),
            "allowed_media_types": "video",
        }
        return Source(url, options, realtime_loop=False)
    if scheme in ("http", "https"):
        return Source(url, {"rw_timeout": str(int(stall_seconds * 1_000_000))}, False)
    if scheme == "file":
        return Source(unquote(parts.path), {}, realtime_loop=True)
    if scheme == "" or (len(scheme) == 1 and parts.netloc == ""):  # a path (C:\… too)
        return Source(url, {}, realtime_loop=True)
    raise SourceError(StreamStatus.UNSUPPORTED, f"cannot ingest {scheme}:// URLs")


class _Rate:
    """Frames per second and kbit/s over the packets received in the last few seconds,
    measured on the stream's own clock: a burst after a network hiccup is not a faster
    camera."""

    def __init__(self) -> None:
        self._recent: deque[tuple[float, float, int]] = deque()

    def add(self, at: float, position: float, size: int) -> None:
        self._recent.append((at, position, size))
        self._forget_before(at - RATE_WINDOW_SECONDS)

    def _forget_before(self, cutoff: float) -> None:
        while self._recent and self._recent[0][0] < cutoff:
            self._recent.popleft()

    def measure(self, now: float) -> tuple[float, float]:
        self._forget_before(now - RATE_WINDOW_SECONDS)
        recent = list(self._recent)
        if len(recent) < 2:
            return 0.0, 0.0
        span = recent[-1][1] - recent[0][1]
        if span <= 0:
            return 0.0, 0.0
        frames = (len(recent) - 1) / span
        kbps = sum(size for _, _, size in recent[1:]) * 8 / span / 1000
        return frames, kbps

    def clear(self) -> None:
        self._recent.clear()


class IngestWorker:
    """Pulls one camera's stream on its own thread until stopped."""

    def __init__(
        self,
        camera_code: str,
        url: str,
        sinks: Sequence[PacketSink],
        options: IngestOptions = IngestOptions(),
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.camera_code = camera_code
        self.url = url
        self._sinks = list(sinks)
        self._options = options
        self._backoff = backoff or Backoff(options.backoff_initial, options.backoff_max)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"ingest-{camera_code}", daemon=True)
        self._rate = _Rate()
        self._status = StreamStatus.CONNECTING
        self._detail: str | None = None
        self._last_packet_at: datetime | None = None
        self._connected_since: datetime | None = None
        self._reconnects = 0
        self._gaps = 0
        self._packets = 0
        self._dropped = 0
        self._loops = 0
        self._stream: tuple[int, int, str] | None = None
        self._failed_sinks: set[int] = set()
        self._opened = False

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the worker to stop without waiting (stopping many cameras at once)."""
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pulling; the sinks get ``stream_closed`` for an open stream. Bounded: a read
        blocked inside FFmpeg is interrupted by its read timeout at the latest."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def health(self) -> IngestHealth:
        now = time.monotonic()
        with self._lock:
            fps, kbps = self._rate.measure(now)
            width, height, codec = self._stream or (None, None, None)
            status = self._status if self.running or self._stop.is_set() else StreamStatus.STOPPED
            if self._stop.is_set():
                status = StreamStatus.STOPPED
            return IngestHealth(
                camera_code=self.camera_code,
                status=status,
                detail=self._detail,
                fps=fps if status is StreamStatus.ONLINE else 0.0,
                bitrate_kbps=kbps if status is StreamStatus.ONLINE else 0.0,
                last_packet_at=self._last_packet_at,
                connected_since=self._connected_since,
                reconnects=self._reconnects,
                gaps=self._gaps,
                packets=self._packets,
                dropped=self._dropped,
                width=width,
                height=height,
                codec=codec,
                loops=self._loops,
            )

    # -- the loop --------------------------------------------------------------------------

    def _run(self) -> None:
        shown_url = without_password(self.url)
        attempt = 0
        while not self._stop.is_set():
            if attempt:
                with self._lock:
                    self._reconnects += 1
            attempt += 1
            self._set_status(StreamStatus.CONNECTING, self._detail)
            self._opened = False
            try:
                self._pull()
                if self._stop.is_set():
                    break
                raise SourceError(StreamStatus.OFFLINE, "the stream ended")
            except Exception as exc:  # every failure of one camera stays with that camera
                error = classify(exc, connected=self._opened)
                self._set_status(error.status, error.detail)
                if self._connected_since is None:
                    log.info("camera %s (%s): %s", self.camera_code, shown_url, error.detail)
                else:
                    log.warning("camera %s lost: %s", self.camera_code, error.detail)
            finally:
                flowed = self._end_connection()
            if flowed > 0 and flowed >= self._options.healthy_after:
                self._backoff.reset()  # it worked for a while: the next loss starts over
            if self._stop.wait(self._backoff.next_delay()):
                break
        self._set_status(StreamStatus.STOPPED, None)

    def _pull(self) -> None:
        source = describe_source(
            self.url, self._options.rtsp_transport, self._options.stall_seconds
        )
        if source.realtime_loop and not Path(source.url).is_file():
            raise FileNotFoundError(source.url)
        container = av.open(
            source.url,
            options=source.options,
            timeout=(self._options.connect_timeout, self._options.stall_seconds),
        )
        self._opened = True  # from here on, silence is a stall, not an unreachable camera
        try:
            if not container.streams.video:
                raise SourceError(StreamStatus.UNSUPPORTED, "the stream carries no video")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            if codec not in SUPPORTED_CODECS:
                raise SourceError(
                    StreamStatus.UNSUPPORTED,
                    f"{codec} video cannot be recorded without transcoding; "
                    "set the camera to H.264 or H.265",
                )
            packets = (
                self._paced_loop(container, stream)
                if source.realtime_loop
                else self._packets_of(container, stream)
            )
            self._forward(stream, packets)
        finally:
            container.close()

    def _packets_of(
        self, container: av.container.InputContainer, stream: VideoStream
    ) -> Iterator[tuple[av.Packet[VideoStream], int]]:
        for packet in container.demux(stream):
            if self._stop.is_set():
                return
            yield packet, 0

    def _paced_loop(
        self, container: av.container.InputContainer, stream: VideoStream
    ) -> Iterator[tuple[av.Packet[VideoStream], int]]:
        """A file's packets when they are due, looping; the second item shifts timestamps so
        that they keep growing across loops."""
        time_base = stream.time_base
        assert time_base is not None
        tick = float(time_base)
        start = stream.start_time or 0
        clock_zero = time.monotonic()
        shift = 0
        while not self._stop.is_set():
            end = start
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                position = (packet.pts - start + shift) * tick
                lateness = time.monotonic() - (clock_zero + position)
                if lateness > RESYNC_AFTER_SECONDS:
                    clock_zero += lateness
                elif lateness < 0 and self._stop.wait(-lateness):
                    return
                end = max(end, packet.pts + (packet.duration or 0))
                yield packet, shift
            if end == start:
                raise SourceError(StreamStatus.CORRUPT, "the file holds no video packets")
            shift += end - start
            with self._lock:
                self._loops += 1
            container.seek(0)

    def _forward(
        self,
        stream: VideoStream,
        packets: Iterator[tuple[av.Packet[VideoStream], int]],
    ) -> None:
        info: StreamInfo | None = None
        last_dts: int | None = None
        for packet, shift in packets:
            if packet.size == 0:
                continue
            pts = packet.pts if packet.pts is not None else packet.dts
            dts = packet.dts if packet.dts is not None else packet.pts
            if pts is None or dts is None:
                self._count_dropped()
                continue
            pts, dts = pts + shift, dts + shift
            now = time.time()
            keyframe = bool(packet.is_keyframe)
            if info is not None and keyframe and self._drifted(info, pts, now):
                # Re-anchor at this keyframe: sinks get the stream again with the new anchor,
                # without a close, so the recorder ends its segment where the next begins.
                info = None
            if info is None:
                if not keyframe:
                    continue  # sinks start at a keyframe
                info = self._open_sinks(stream, pts, now)
                last_dts = None
            if last_dts is not None and dts <= last_dts:
                self._count_dropped()
                continue
            last_dts = dts
            data = bytes(packet)
            self._note_packet(now, info.seconds(dts - info.first_pts), len(data))
            video_packet = VideoPacket(
                data, pts, dts, int(packet.duration or 0), keyframe, arrived=now
            )
            for index, sink in enumerate(self._sinks):
                try:
                    sink.packet(video_packet)
                except Exception:
                    self._sink_failed(index, sink)
        if info is None and not self._stop.is_set():
            raise SourceError(StreamStatus.CORRUPT, "no keyframe came before the stream ended")

    def _drifted(self, info: StreamInfo, pts: int, now: float) -> bool:
        return abs(now - info.wall_time(pts)) > REANCHOR_AFTER_SECONDS

    # -- bookkeeping -----------------------------------------------------------------------

    def _open_sinks(self, stream: VideoStream, first_pts: int, now: float) -> StreamInfo:
        context = stream.codec_context
        assert stream.time_base is not None
        info = StreamInfo(
            camera_code=self.camera_code,
            codec=context.name,
            time_base=stream.time_base,
            width=context.width,
            height=context.height,
            extradata=bytes(context.extradata or b""),
            template=stream,
            started_at=now,
            first_pts=first_pts,
        )
        with self._lock:
            connected = self._connected_since is None  # else a re-anchored clock, same stream
            self._connected_since = self._connected_since or datetime.fromtimestamp(now, UTC)
            self._stream = (context.width, context.height, context.name)
            self._status, self._detail = StreamStatus.ONLINE, None
            reconnects = self._reconnects
        if connected:
            log.info(
                "camera %s online: %s %dx%d%s",
                self.camera_code,
                context.name,
                context.width,
                context.height,
                f", after {reconnects} reconnect(s)" if reconnects else "",
            )
        self._failed_sinks.clear()
        for index, sink in enumerate(self._sinks):
            try:
                sink.stream_opened(info)
            except Exception:
                self._sink_failed(index, sink)
        return info

    def _end_connection(self) -> float:
        """Close the connection's sinks; returns how many seconds video flowed on it."""
        with self._lock:
            flowed = 0.0
            if self._connected_since is not None:
                self._gaps += 1  # the recording breaks here until the camera is back
                flowed = (datetime.now(UTC) - self._connected_since).total_seconds()
            self._connected_since = None
            self._rate.clear()
        self._close_sinks()
        return flowed

    def _close_sinks(self) -> None:
        for index, sink in enumerate(self._sinks):
            try:
                sink.stream_closed()
            except Exception:
                self._sink_failed(index, sink)

    def _sink_failed(self, index: int, sink: PacketSink) -> None:
        if index not in self._failed_sinks:  # once per connection, not once per packet
            self._failed_sinks.add(index)
            log.exception("camera %s: %s failed", self.camera_code, type(sink).__name__)

    def _note_packet(self, now: float, position: float, size: int) -> None:
        with self._lock:
            self._packets += 1
            self._last_packet_at = datetime.fromtimestamp(now, UTC)
            self._rate.add(time.monotonic(), position, size)

    def _count_dropped(self) -> None:
        with self._lock:
            self._dropped += 1

    def _set_status(self, status: StreamStatus, detail: str | None) -> None:
        with self._lock:
            self._status, self._detail = status, detail
