"""Where the API gets a live picture of a camera from, and how a picture becomes a JPEG."""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol

import av

# MJPEG quantiser: 2 is near-lossless, 31 the coarsest; 4 keeps plates and faces readable at a
# fraction of the size.
JPEG_QUANTISER = 4


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
