"""From compressed packets to detect frames: decode every packet, keep frames at the detect rate.

A camera's sub-stream at 25 fps must be decoded frame by frame (a P-frame needs the one before
it), but only the frames due at the detect rate (5 fps by default) are scaled to the detect
width and converted to RGB for analysis: the conversion costs as much as the decode. Frames are
chosen by their timestamps, so a camera that sends 12.5 or 30 fps, or drops frames, is sampled
evenly all the same.

``FrameDecoder`` is fed by the caller's thread (the analysis worker of a live camera, or the
loop over a file in an offline run); nothing here waits or keeps more than one frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import av
import av.error
import cv2
import numpy as np
from av.video.frame import VideoFrame

from safecity.analytics.frames import Frame, Image
from safecity.video.ingest.packets import StreamInfo, VideoPacket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodeOptions:
    detect_fps: float = 5.0
    """Frames per second analysed; the rest are decoded (they must be) and let go."""
    detect_width: int = 640
    """Wider pictures are scaled down to this width, keeping their shape (a 640×360
    sub-stream is analysed as it comes)."""

    def __post_init__(self) -> None:
        if not 0 < self.detect_fps <= 60:
            raise ValueError(f"the detect rate must be 0–60 fps, got {self.detect_fps}")
        if not 64 <= self.detect_width <= 3840:
            raise ValueError(f"the detect width must be 64–3840 pixels, got {self.detect_width}")


def detect_size(width: int, height: int, detect_width: int) -> tuple[int, int]:
    """The size a ``width`` × ``height`` picture is analysed at: as it is when no wider than
    ``detect_width``, else scaled to that width with its shape kept (even sizes, as encoders
    and scalers prefer)."""
    if width <= detect_width:
        return width, height
    scaled = round(height * detect_width / width)
    return detect_width, max(2, scaled - scaled % 2)


_SAME_MOMENT = 1e-3
"""Seconds within which a frame counts as on time: the cadence is a sum of floats, so a 10 fps
frame at 0.6 s must not miss the slot due at 0.6000000000000001 s."""


class FrameSampler:
    """Chooses, by timestamp, which decoded frames are analysed: one per ``1/fps`` seconds."""

    def __init__(self, fps: float) -> None:
        self._every = 1.0 / fps
        self._next: float | None = None

    def due(self, seconds: float) -> bool:
        if self._next is not None and seconds < self._next - _SAME_MOMENT:
            if self._next - seconds > 10 * self._every:  # time went backwards (a looped file)
                self._next = None
            else:
                return False
        # Keep the cadence, but never try to catch up a stretch that was lost.
        if self._next is None or seconds - self._next > self._every:
            self._next = seconds + self._every
        else:
            self._next += self._every
        return True

    def reset(self) -> None:
        self._next = None


@dataclass
class DecodeFigures:
    decoded: int = 0
    """Frames decoded (every frame the camera sent that could be)."""
    errors: int = 0
    """Packets the decoder refused (corrupt data); decoding goes on at the next keyframe."""


class FrameDecoder:
    """Decodes one connection's packets into detect frames at the detect rate."""

    def __init__(self, info: StreamInfo, options: DecodeOptions) -> None:
        self._info = info
        self._options = options
        self._codec = cast(av.VideoCodecContext, av.CodecContext.create(info.codec, "r"))
        if info.extradata:
            self._codec.extradata = info.extradata
        self._sampler = FrameSampler(options.detect_fps)
        self._size = detect_size(info.width, info.height, options.detect_width)
        self._waiting_for_keyframe = True
        self._index = 0
        self.figures = DecodeFigures()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames this decoder gives."""
        return self._size

    def skip_to_keyframe(self) -> None:
        """Packets were let go (the analysis fell behind): what follows cannot be decoded
        until the next keyframe."""
        self._waiting_for_keyframe = True

    def decode(self, packet: VideoPacket) -> Frame | None:
        """The detect frame this packet completes, if one is due; None otherwise."""
        if self._waiting_for_keyframe:
            if not packet.keyframe:
                return None
            self._waiting_for_keyframe = False
            self._codec.flush_buffers()
        chosen: Frame | None = None
        try:
            frames = self._codec.decode(_packet(packet))
        except av.error.FFmpegError as exc:
            self.figures.errors += 1
            log.debug("camera %s: undecodable packet: %s", self._info.camera_code, exc)
            self._waiting_for_keyframe = True
            return None
        for decoded in frames:
            self.figures.decoded += 1
            pts = decoded.pts if decoded.pts is not None else packet.pts
            seconds = self._info.seconds(pts - self._info.first_pts)
            if self._sampler.due(seconds):
                chosen = self._frame(decoded, self._info.wall_time(pts), seconds)
        return chosen

    def _frame(self, decoded: VideoFrame, at: float, offset: float) -> Frame:
        frame = to_frame(decoded, self._size, at=at, offset=offset, index=self._index)
        self._index += 1
        return frame


LUMA_FORMATS = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"}
)
"""Pixel formats whose first plane is the picture's luma, one byte a pixel."""
FULL_RANGE = 2
"""FFmpeg's AVCOL_RANGE_JPEG: luma 0–255 (else, as cameras send it, 16–235)."""
_LIMITED_SCALE = 255 / 219


def to_frame(
    decoded: VideoFrame, size: tuple[int, int], *, at: float, offset: float, index: int
) -> Frame:
    """The analysis frame of ``decoded`` at ``size``: its luma plane as the grey picture (scaled
    to ``size``, stretched to 0–255), the colour picture made only if something asks."""
    width, height = size
    if decoded.format.name not in LUMA_FORMATS:  # not YUV: convert at once
        scaled = decoded.reformat(width=width, height=height, interpolation="AREA")
        image = cast(Image, scaled.to_ndarray(format="rgb24"))
        return Frame(image=image, at=at, offset=offset, index=index)
    plane = decoded.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    luma: Image = rows[:, : decoded.width]
    if (decoded.width, decoded.height) != size:
        luma = cast(Image, cv2.resize(luma, size, interpolation=cv2.INTER_AREA))
    full = decoded.format.name.startswith("yuvj") or decoded.color_range == FULL_RANGE
    if full:
        grey = np.ascontiguousarray(luma)
    else:
        grey = cast(
            Image, cv2.convertScaleAbs(luma, alpha=_LIMITED_SCALE, beta=-16 * _LIMITED_SCALE)
        )

    def colour() -> Image:
        scaled = decoded.reformat(width=width, height=height, interpolation="AREA")
        return cast(Image, scaled.to_ndarray(format="rgb24"))

    return Frame(grey=grey, colour=colour, at=at, offset=offset, index=index)


def _packet(packet: VideoPacket) -> av.Packet[Any]:
    made = av.Packet(packet.data)
    made.pts = packet.pts
    made.dts = packet.dts
    made.is_keyframe = packet.keyframe
    return made


class UnreadableVideo(Exception):
    """A file that cannot be analysed; the message says which and why."""


def file_frames(path: Path, options: DecodeOptions, *, started_at: float = 0.0) -> Iterator[Frame]:
    """The detect frames of a video file, as fast as it decodes: for re-analysing archives,
    evidence clips, tests and the accuracy bench. ``Frame.at`` is ``started_at`` plus the
    frame's offset from the start of the file (its first frame at offset 0)."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UnreadableVideo(f"{path}: cannot open it as video ({exc})") from exc
    with container:
        if not container.streams.video:
            raise UnreadableVideo(f"{path}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size = detect_size(stream.width, stream.height, options.detect_width)
        sampler = FrameSampler(options.detect_fps)
        first: float | None = None
        index = 0
        try:
            for decoded in container.decode(stream):
                if decoded.pts is None or decoded.time_base is None:
                    continue
                seconds = float(decoded.pts * decoded.time_base)
                first = seconds if first is None else first
                offset = seconds - first
                if not sampler.due(offset):
                    continue
                yield to_frame(decoded, size, at=started_at + offset, offset=offset, index=index)
                index += 1
        except av.error.FFmpegError as exc:
            raise UnreadableVideo(
                f"{path}: the video is damaged after frame {index} ({exc})"
            ) from exc


def file_duration(path: Path) -> float | None:
    """The file's length in seconds, when its container says (None otherwise, or when it
    cannot be opened: the analysis then says why)."""
    try:
        with av.open(str(path)) as container:
            if container.duration is not None:
                return container.duration / 1_000_000
            stream = container.streams.video[0] if container.streams.video else None
            if stream is not None and stream.duration is not None and stream.time_base:
                return float(stream.duration * stream.time_base)
    except (av.error.FFmpegError, OSError):
        return None
    return None
