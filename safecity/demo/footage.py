"""Real footage as a camera would send it: a sample video re-encoded as H.264, looped by ingest.

OpenCV's ``vtest.avi`` (people crossing a plaza) is MS-MPEG4, which no camera sends; the demo
and the tests re-encode it once as H.264 with a keyframe every ``gop_seconds``, as a camera's
stream is, and ingest plays the file at its own pace, looping, like any simulated camera. A
mirrored copy makes a second camera that does not show the same picture as the first.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream


def h264_copy(
    source: Path,
    target: Path,
    *,
    gop_seconds: float = 2.0,
    mirrored: bool = False,
    max_seconds: float | None = None,
) -> Path:
    """Re-encode ``source`` as H.264 into ``target`` (MP4), unless ``target`` already exists.
    Written to a temporary name and renamed, so an interrupted run leaves no half file."""
    if target.exists():
        return target
    partial = target.with_name(target.name + ".part")
    with av.open(str(source)) as reader:
        video_in = reader.streams.video[0]
        rate = video_in.average_rate or Fraction(25)
        with av.open(str(partial), "w", format="mp4") as writer:
            video_out: VideoStream = writer.add_stream("libx264", rate=rate)
            video_out.width = video_in.width - video_in.width % 2
            video_out.height = video_in.height - video_in.height % 2
            video_out.pix_fmt = "yuv420p"
            video_out.options = {
                "preset": "veryfast",
                "g": str(max(1, round(float(rate) * gop_seconds))),
                "bf": "0",  # cameras send no B-frames
                "crf": "26",
            }
            for index, frame in enumerate(reader.decode(video_in)):
                if max_seconds is not None and index / float(rate) >= max_seconds:
                    break
                picture = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                picture = picture[: video_out.height, : video_out.width]
                if mirrored:
                    picture = np.ascontiguousarray(picture[:, ::-1])
                out = av.VideoFrame.from_ndarray(picture, format="rgb24")
                out.pts = index
                writer.mux(video_out.encode(out))
            writer.mux(video_out.encode(None))
    os.replace(partial, target)
    return target
