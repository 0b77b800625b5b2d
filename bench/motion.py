"""Cost of the cheap per-frame analytics — motion, tamper, detector regions — against decoding.

Run by hand from the repository root:

    .venv/bin/python bench/motion.py [--repeats 5] [--frames 400]

The real pedestrian footage (OpenCV's vtest.avi, fetched once into the cache) is scaled to a
640×360 and a 1280×720 detect stream, taken at 5 fps, and encoded to H.264 in memory (x264,
2 s GOP, no B-frames: a camera's sub-stream). Then, per size and per repeat, one pass over the
stream on one thread (OpenCV and the decoder both held to one) times each stage per frame:

- decode: PyAV decodes the next frame (YUV), the floor every camera pays;
- to RGB: ``to_ndarray("rgb24")``, the detect frame the pipeline hands on (also paid by every
  camera, analysed or not: the detector wants RGB);
- motion: ``MotionDetector.detect`` (small grey picture, background, contours, boxes);
- tamper: ``TamperWatch.watch`` on the grey picture motion made (its cost when both run);
- tamper alone: making its own small grey picture, then watching (when motion is off);
- regions: ``detector_regions`` over the frame's motion boxes (model 300).

Prints the median over repeats of each stage's mean µs per frame, its ratio to decode, the
ratio of decode + RGB + motion + tamper to decode + RGB alone, and how many 5 fps cameras one
core could analyse at that cost. ``uptime`` before and after says how busy the machine was: compare ratios
from one run, not absolute figures between runs.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import cv2

from safecity.analytics.motion import MotionDetector, small_grey
from safecity.analytics.regions import detector_regions
from safecity.analytics.tamper import TamperWatch
from tests.support.footage import footage

FPS = 5
SIZES = ((640, 360), (1280, 720))
STAGES = ("decode", "to RGB", "motion", "tamper", "tamper alone", "regions")


def encode(width: int, height: int, frames: int) -> bytes:
    """vtest.avi at ``width`` × ``height`` and 5 fps (every other frame), as H.264."""
    out = io.BytesIO()
    with av.open(str(footage("vtest.avi"))) as source, av.open(out, "w", format="mp4") as sink:
        stream = sink.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": str(2 * FPS), "bf": "0"}
        written = 0
        for index, frame in enumerate(source.decode(video=0)):
            if index % 2 or written >= frames:
                continue
            picture = cv2.resize(
                frame.to_ndarray(format="rgb24"), (width, height), interpolation=cv2.INTER_AREA
            )
            sink.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
            written += 1
        sink.mux(stream.encode(None))
    return out.getvalue()


def one_pass(stream_bytes: bytes, width: int, height: int) -> dict[str, float]:
    """Mean µs per frame of each stage over one pass of the stream."""
    spent = dict.fromkeys(STAGES, 0.0)
    motion, tamper, lone_tamper = MotionDetector(), TamperWatch(), TamperWatch()
    frames = 0
    with av.open(io.BytesIO(stream_bytes)) as container:
        video = container.streams.video[0]
        video.thread_type = "NONE"
        decoded = container.decode(video)
        while True:
            start = time.perf_counter()
            frame = next(decoded, None)
            if frame is None:
                break
            decoded_at = time.perf_counter()
            image = frame.to_ndarray(format="rgb24")
            converted_at = time.perf_counter()
            moved = motion.detect(image)
            motion_done = time.perf_counter()
            tamper.watch(moved.grey, frames / FPS)
            tamper_done = time.perf_counter()
            lone_tamper.watch(small_grey(image, 180), frames / FPS)
            lone_done = time.perf_counter()
            detector_regions(moved.boxes, [], width, height, 300)
            regions_done = time.perf_counter()
            spent["decode"] += decoded_at - start
            spent["to RGB"] += converted_at - decoded_at
            spent["motion"] += motion_done - converted_at
            spent["tamper"] += tamper_done - motion_done
            spent["tamper alone"] += lone_done - tamper_done
            spent["regions"] += regions_done - lone_done
            frames += 1
    return {stage: seconds / frames * 1e6 for stage, seconds in spent.items()}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=400, help="at most 398 (vtest at 5 fps)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"before: {uptime()}")
    for width, height in SIZES:
        stream_bytes = encode(width, height, args.frames)
        runs = [one_pass(stream_bytes, width, height) for _ in range(args.repeats)]
        median = {stage: statistics.median(run[stage] for run in runs) for stage in STAGES}
        decode = median["decode"]
        print(f"\n{width}×{height}, {args.repeats} passes, µs per frame (median of the passes):")
        for stage in STAGES:
            print(f"  {stage:13s} {median[stage]:8.0f}  {median[stage] / decode:5.2f}× decode")
        both = median["motion"] + median["tamper"]
        print(f"  motion+tamper {both:8.0f}  {both / decode:5.2f}× decode")
        floor = decode + median["to RGB"]
        total = floor + both
        print(f"  decode + RGB + motion + tamper = {total / floor:.2f}× decode + RGB")
        print(
            f"  cameras per core at {FPS} fps: {1e6 / (FPS * total):.0f} "
            f"(decode + RGB alone: {1e6 / (FPS * floor):.0f}; "
            f"motion + tamper alone: {1e6 / (FPS * both):.0f})"
        )
        spread = [run["motion"] + run["tamper"] for run in runs]
        print(f"  motion+tamper over passes: {min(spread):.0f}–{max(spread):.0f} µs")
    print(f"\nafter: {uptime()}")


if __name__ == "__main__":
    main()
