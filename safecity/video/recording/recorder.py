"""The recorder: packets remuxed, never decoded, into fixed-length fragmented-MP4 segments.

A segment is cut at the first keyframe after ``segment_seconds`` so that every file starts
with a picture that decodes on its own. Each is written as ``<name>.mp4.partial``, flushed to
disk, then renamed: a crash leaves at most one ``.partial`` file per camera, which start-up
recovery (``safecity.video.recording.recovery``) salvages or discards. A finished segment is hashed
(SHA-256, computed while writing) and handed to ``on_segment`` to be indexed.

Files: ``<media>/recordings/<camera>/<YYYY-MM-DD>/<HHMMSS-mmm>.mp4``, UTC, named by the wall
time of their first packet.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import av
from prometheus_client import Counter

from safecity.core.files import file_sha256
from safecity.core.media import MEDIA_MARKER, RECORDINGS_FOLDER, Sign, unmounted
from safecity.private_files import make_folders
from safecity.video.ingest.packets import StreamInfo, VideoPacket
from safecity.video.mp4.layout import read_layout

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
"""One fragment per GOP, no index to patch at the end: every flushed fragment is playable."""
RECORDING_FAILURES = Counter(
    "safecity_recording_failures_total",
    "Segments that could not be created, written or finished (full or failing media disk, "
    "a camera without keyframes); each failed try counts",
)
RETRY_AFTER_WRITE_ERROR_SECONDS = 5.0
MAX_GOP_SECONDS = 60.0
"""A camera whose keyframes are further apart than this is not recorded (see ``packet``)."""
WRITE_BUFFER_BYTES = 1 << 20
"""FFmpeg hands the file this much at a time: few Python calls and hash updates (a third of the
recorder's CPU at FFmpeg's default of 32 KiB). A crash loses what is still buffered, which is
inside the segment being written: the finished ones are on disk, fsynced."""


@dataclass(frozen=True)
class FinishedSegment:
    camera_id: int
    camera_code: str
    path: str
    """Relative to the media folder, '/'-separated."""
    started_at: datetime
    ended_at: datetime
    bytes: int
    sha256: str
    codec: str
    time_scale: int
    init_bytes: int
    packets: int
    keyframes: list[list[int]]
    """[milliseconds from the start, byte offset of the fragment it opens] per keyframe."""

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class RecorderState:
    recording: bool
    detail: str | None
    segments: int
    bytes: int


def segment_path(camera_code: str, started_at: datetime) -> str:
    moment = started_at.astimezone(UTC)
    name = f"{moment:%H%M%S}-{moment.microsecond // 1000:03d}.mp4"
    return f"{RECORDINGS_FOLDER}/{camera_code}/{moment:%Y-%m-%d}/{name}"


def started_at_from_path(path: str) -> datetime:
    """The start time a segment's file name encodes (ValueError if it is not one of ours)."""
    parts = path.split("/")
    day, name = parts[-2], parts[-1].removesuffix(PARTIAL_SUFFIX).removesuffix(".mp4")
    clock, millis = name.split("-")
    moment = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H%M%S").replace(tzinfo=UTC)
    return moment.replace(microsecond=int(millis) * 1000)


def open_segment_file(path: Path) -> IO[bytes]:
    """A new segment file, unbuffered (the muxer hands over 1 MiB at a time); never an
    existing one."""
    return open(path, "xb", buffering=0)


class HashingFile:
    """The file PyAV writes a segment into: hashes bytes as they pass, so finishing a segment
    does not read it back. The muxer flags we use never seek back; if one ever did, the hash
    is recomputed from the file instead of being wrong."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self._position = 0
        self.sequential = True

    def write(self, data: bytes) -> int:
        self._raw.write(data)
        if self.sequential:
            self._hash.update(data)
        self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = self._raw.seek(offset, whence)
        if target != self._position:
            self.sequential = False
        self._position = target
        return target

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        self._raw.flush()

    def digest(self) -> str:
        return self._hash.hexdigest()


@dataclass
class _OpenSegment:
    path: str
    partial: Path
    final: Path
    raw: IO[bytes]
    file: HashingFile
    output: av.container.OutputContainer
    stream: Any
    started_at: datetime
    first_pts: int
    first_dts: int
    keyframe_pts: list[int] = field(default_factory=list)
    packets: int = 0
    end_pts: int = 0
    last_pts: int = 0


class SegmentRecorder:
    """Records one camera; a ``PacketSink`` driven by the camera's ingest worker."""

    def __init__(
        self,
        camera_id: int,
        camera_code: str,
        media_root: Path,
        on_segment: Callable[[FinishedSegment], None],
        *,
        segment_seconds: float = 10.0,
        open_file: Callable[[Path], IO[bytes]] = open_segment_file,
        guard_media: bool = False,
    ) -> None:
        """``guard_media``: write nothing into a media folder without its marker
        (``safecity.core.media``). It goes away with the disk: a disk unmounted under a running
        node leaves its mount point, an empty folder on the system disk, which would otherwise
        be filled instead."""
        self.camera_id = camera_id
        self.camera_code = camera_code
        self.media_root = media_root
        self._on_segment = on_segment
        self._segment_seconds = segment_seconds
        self._open_file = open_file
        self._guard_media = guard_media
        self._info: StreamInfo | None = None
        self._current: _OpenSegment | None = None
        self._error: str | None = None
        self._cause: str | None = None
        self._retry_at = 0.0
        self._segments = 0
        self._bytes = 0

    def state(self) -> RecorderState:
        # Recording is on while a stream is open and nothing failed since the last segment
        # that reached the disk, also in the instant between one segment's end and the next
        # one's start (health is read from another thread at any moment).
        recording = self._info is not None and self._error is None
        return RecorderState(recording, self._error, self._segments, self._bytes)

    # -- PacketSink ------------------------------------------------------------------------

    def stream_opened(self, info: StreamInfo) -> None:
        # Without a close in between, ingest re-anchored the stream's clock: the open segment
        # ends where the next one will begin, so the two never overlap.
        self._finish(end_cap=datetime.fromtimestamp(info.started_at, UTC))
        self._info = info

    def stream_closed(self) -> None:
        self._finish()
        self._info = None

    def packet(self, packet: VideoPacket) -> None:
        info = self._info
        if info is None:
            return
        current = self._current
        if current is not None and packet.keyframe and self._is_due(current, info, packet):
            self._finish()
            current = None
        elif (
            current is not None
            and not packet.keyframe
            and self._keyframe_overdue(current, info, packet)
        ):
            # FFmpeg holds a fragment (a whole GOP) in memory until the next keyframe: a camera
            # that stopped sending them would grow it without end.
            self._finish()
            self._fail(
                f"no keyframe for over {MAX_GOP_SECONDS:.0f} s; set the camera's keyframe "
                "interval (GOP) to 1-4 s"
            )
            return
        if current is None:
            if not packet.keyframe or time.monotonic() < self._retry_at:
                return
            current = self._start(info, packet)
            if current is None:
                return
            self._current = current
        try:
            self._write(current, info, packet)
        except (OSError, av.error.FFmpegError) as exc:
            self._abandon(f"cannot write {current.path}", _plain(exc))

    def close(self) -> None:
        """Finish the segment being written (the worker is stopping)."""
        self._finish()

    # -- segments --------------------------------------------------------------------------

    def _keyframe_overdue(
        self, current: _OpenSegment, info: StreamInfo, packet: VideoPacket
    ) -> bool:
        last = current.keyframe_pts[-1] if current.keyframe_pts else current.first_pts
        return info.seconds(packet.pts - last) > MAX_GOP_SECONDS

    def _is_due(self, current: _OpenSegment, info: StreamInfo, packet: VideoPacket) -> bool:
        return info.seconds(packet.pts - current.first_pts) >= self._segment_seconds

    def _start(self, info: StreamInfo, packet: VideoPacket) -> _OpenSegment | None:
        started_at = datetime.fromtimestamp(info.wall_time(packet.pts), UTC)
        path = segment_path(self.camera_code, started_at)
        final = self.media_root / path
        partial = final.with_name(final.name + PARTIAL_SUFFIX)
        if self._guard_media and unmounted(self.media_root, Sign.MARKER) is not None:
            self._fail(
                f"cannot record into {self.media_root}",
                f"it has no {MEDIA_MARKER}: is the media disk still mounted?",
            )
            return None
        try:
            make_folders(final.parent)
            if final.exists():  # the same millisecond again (a re-anchored clock): keep both
                return None
            raw = self._open_file(partial)
        except OSError as exc:
            self._fail(f"cannot create {path}", _plain(exc))
            return None
        file = HashingFile(raw)
        try:
            output = av.open(
                file,
                "w",
                format="mp4",
                options={"movflags": MOVFLAGS},
                buffer_size=WRITE_BUFFER_BYTES,
            )
            stream = output.add_stream_from_template(info.template)
        except (OSError, av.error.FFmpegError) as exc:
            raw.close()
            partial.unlink(missing_ok=True)
            self._fail(f"cannot start {path}", _plain(exc))
            return None
        return _OpenSegment(
            path=path,
            partial=partial,
            final=final,
            raw=raw,
            file=file,
            output=output,
            stream=stream,
            started_at=started_at,
            first_pts=packet.pts,
            first_dts=packet.dts,
        )

    def _write(self, current: _OpenSegment, info: StreamInfo, packet: VideoPacket) -> None:
        out = av.Packet(packet.data)
        out.pts = packet.pts - current.first_dts
        out.dts = packet.dts - current.first_dts
        out.duration = packet.duration
        out.is_keyframe = packet.keyframe
        out.time_base = info.time_base
        out.stream = current.stream
        current.output.mux(out)
        if packet.keyframe:
            current.keyframe_pts.append(packet.pts)
        current.packets += 1
        duration = packet.duration or max(packet.pts - current.last_pts, 0)
        current.last_pts = packet.pts
        current.end_pts = max(current.end_pts, packet.pts + duration)

    def _finish(self, *, end_cap: datetime | None = None) -> None:
        current, self._current = self._current, None
        info = self._info
        if current is None or info is None:
            return
        try:
            current.output.close()
            current.raw.flush()
            os.fsync(current.raw.fileno())
            current.raw.close()
            os.replace(current.partial, current.final)
            _fsync_folder(current.final.parent)
            segment = self._describe(current, info, end_cap)
        except (OSError, av.error.FFmpegError, ValueError) as exc:
            self._discard(current)
            self._fail(f"cannot finish {current.path}", _plain(exc))
            return
        self._segments += 1
        self._bytes += segment.bytes
        if self._error is not None:
            # Only a segment safely on disk ends a failure: a full disk still lets a file be
            # created, and takes the first megabyte into FFmpeg's buffer before it refuses.
            log.info("camera %s: recording again", self.camera_code)
            self._error = self._cause = None
        self._on_segment(segment)

    def _describe(
        self, current: _OpenSegment, info: StreamInfo, end_cap: datetime | None
    ) -> FinishedSegment:
        layout = read_layout(current.final)
        digest = current.file.digest() if current.file.sequential else file_sha256(current.final)
        time_base = info.time_base
        keyframes = [
            [
                round(float((pts - current.first_pts) * time_base) * 1000),
                fragment.offset,
            ]
            for pts, fragment in zip(
                current.keyframe_pts,
                [fragment for fragment in layout.fragments if fragment.keyframe],
                strict=False,
            )
        ]
        ended_at = datetime.fromtimestamp(info.wall_time(current.end_pts), UTC)
        if end_cap is not None:
            ended_at = min(ended_at, end_cap)
        return FinishedSegment(
            camera_id=self.camera_id,
            camera_code=self.camera_code,
            path=current.path,
            started_at=current.started_at,
            ended_at=max(ended_at, current.started_at),
            bytes=current.final.stat().st_size,
            sha256=digest,
            codec=layout.codec,
            time_scale=layout.timescale,
            init_bytes=layout.init_size,
            packets=current.packets,
            keyframes=keyframes,
        )

    def _abandon(self, what: str, cause: str) -> None:
        """A write failed (disk full, I/O error): drop the segment being written, say why,
        and try a new one at a keyframe a little later. Finished segments are untouched."""
        current, self._current = self._current, None
        if current is not None:
            self._discard(current)
        self._fail(what, cause)

    def _discard(self, current: _OpenSegment) -> None:
        # The muxer may fail to write its trailer on the same full disk: the file goes anyway.
        with contextlib.suppress(OSError, av.error.FFmpegError):
            current.output.close()
        with contextlib.suppress(OSError):
            current.raw.close()
        current.partial.unlink(missing_ok=True)

    def _fail(self, what: str, cause: str | None = None) -> None:
        """Recording stopped: ``what`` failed (it names the file) because of ``cause``. Logged
        at ERROR when it starts and when its cause changes, not at every retry: a full disk
        under a thousand cameras would otherwise write two hundred lines a second."""
        RECORDING_FAILURES.inc()
        reason = f"{what}: {cause}" if cause else what
        if self._error is None or cause != self._cause:
            log.error("camera %s: recording stopped: %s", self.camera_code, reason)
        self._error, self._cause = reason, cause
        self._retry_at = time.monotonic() + RETRY_AFTER_WRITE_ERROR_SECONDS


def _plain(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable: the folder entry must reach the disk too."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
