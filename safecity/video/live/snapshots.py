"""Where the API gets a live picture of a camera from, and how a picture becomes a JPEG."""

from __future__ import annotations

import threading
from fractions import Fraction
from typing import Protocol, cast

import av

from safecity.video.ingest.packets import StreamInfo, VideoPacket

# MJPEG quantiser: 2 is near-lossless, 31 the coarsest; 4 keeps plates and faces readable at a
# fraction of the size.
JPEG_QUANTISER = 4
MAX_GOP_BYTES = 32 << 20
"""A GOP longer than this (a camera without keyframes) is not kept for snapshots."""


class SnapshotProvider(Protocol):
    def snapshot_jpeg(self, camera_code: str) -> bytes | None:
        """A JPEG of the camera's latest picture; None when there is no live source for it."""
        ...


def jpeg_from_frame(frame: av.VideoFrame, quantiser: int = JPEG_QUANTISER) -> bytes:
    """Encode one decoded frame as a baseline JPEG with FFmpeg's MJPEG encoder."""
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = frame.width, frame.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.qmin = encoder.qmax = quantiser
    packets = encoder.encode(frame.reformat(format="yuvj420p"))
    packets += encoder.encode(None)
    return b"".join(bytes(packet) for packet in packets)


class GopBuffer:
    """A ``PacketSink`` that keeps the packets since the last keyframe, so that a snapshot
    decodes one GOP on demand instead of decoding every frame all the time."""

    def __init__(self, *, max_bytes: int = MAX_GOP_BYTES) -> None:
        self._lock = threading.Lock()
        self._max_bytes = max_bytes
        self._extradata = b""
        self._codec = "h264"
        self._gop: list[bytes] = []
        self._bytes = 0

    def stream_opened(self, info: StreamInfo) -> None:
        with self._lock:
            self._extradata, self._codec, self._gop, self._bytes = (
                info.extradata,
                info.codec,
                [],
                0,
            )

    def packet(self, packet: VideoPacket) -> None:
        with self._lock:
            if packet.keyframe:
                self._gop, self._bytes = [], 0
            elif not self._gop:
                return  # dropped for size: wait for the next keyframe
            self._gop.append(packet.data)
            self._bytes += len(packet.data)
            if self._bytes > self._max_bytes:  # a camera that stopped sending keyframes
                self._gop, self._bytes = [], 0

    def stream_closed(self) -> None:
        """The last picture stays available: a snapshot of a camera that just dropped still
        shows what it saw last."""

    def snapshot_jpeg(self) -> bytes | None:
        with self._lock:
            gop, extradata, codec = list(self._gop), self._extradata, self._codec
        if not gop:
            return None
        decoder = cast(av.VideoCodecContext, av.CodecContext.create(codec, "r"))
        if extradata:
            decoder.extradata = extradata
        latest = None
        for data in gop:
            for frame in decoder.decode(av.Packet(data)):
                latest = frame
        for frame in decoder.decode(None):
            latest = frame
        return jpeg_from_frame(latest) if isinstance(latest, av.VideoFrame) else None
