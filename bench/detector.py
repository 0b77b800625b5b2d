"""Detector cost on one thread: inferences per second and milliseconds per call, on real frames.

Run by hand from the repository root (fetches the pinned model and footage once, ~105 MB):

    .venv/bin/python bench/detector.py [--calls 300]

Pictures are frames of OpenCV's vtest.avi (a pedestrian plaza, 768×576). Measured, each on one
thread (LiteRT ``num_threads=1``, ONNX Runtime ``intra_op_num_threads=1``, OpenCV's resize on
one thread):

- SSD MobileNet v2 COCO (LiteRT) on 300×300 regions cut from the frames: the model's own size,
  what the pipeline crops around motion, so no scaling; then on whole frames (letterboxed);
- the same through ``SharedDetector`` (queue, worker thread, future): the sharing's overhead;
- the tests' ONNX model (tests/support/onnx_detector.py, 64×64, a few pooling and clipping
  ops) on whole frames, one at a time and in batches of 8: nearly all of its time is our pre-
  and post-processing (letterbox, float conversion, NMS, boxes back), which is what it
  measures. A real YOLOv8n at 320² runs ~89/s here (PLATFORM.md).

``uptime`` is printed before and after: the machines are shared and noisy; compare figures
from one run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import cv2
import numpy as np

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import OPENCV_FOOTAGE, SSD_MOBILENET, Role, asset_named
from safecity.analytics.assets.fetch import fetch
from safecity.analytics.detectors.litert import SsdMobileNetDetector
from safecity.analytics.detectors.onnx import OnnxDetector, OnnxModelOptions
from safecity.analytics.detectors.shared import SharedDetector
from safecity.analytics.frames import Image
from tests.support.onnx_detector import CLASS_NAMES, build_square_detector


def uptime() -> None:
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def real_frames(path: Path, count: int) -> list[Image]:
    """``count`` frames spread over the clip."""
    with av.open(str(path)) as container:
        every = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    step = max(1, len(every) // count)
    return every[::step][:count]


def regions(frames: Sequence[Image], size: int) -> list[Image]:
    """A ``size``-square region of each frame, moving across it as motion regions would."""
    found = []
    for at, frame in enumerate(frames):
        height, width = frame.shape[:2]
        x = (at * 97) % (width - size)
        y = (at * 61) % (height - size)
        found.append(np.ascontiguousarray(frame[y : y + size, x : x + size]))
    return found


def measure(
    name: str, call: Callable[[Image], object], pictures: Sequence[Image], calls: int
) -> None:
    for picture in pictures[:10]:
        call(picture)  # warm up: first inferences allocate and pack weights
    timings = []
    started = time.perf_counter()
    cpu = time.process_time()
    for at in range(calls):
        begun = time.perf_counter()
        call(pictures[at % len(pictures)])
        timings.append(time.perf_counter() - begun)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(
        f"{name:<44} {calls / wall:7.1f} calls/s  "
        f"{1000 * statistics.median(timings):6.2f} ms median  {1000 * p95:6.2f} ms p95  "
        f"{100 * cpu / wall:4.0f}% CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per figure")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    uptime()
    cache = AssetCache()
    model = fetch(asset_named(SSD_MOBILENET), cache)
    ssd_asset = asset_named(SSD_MOBILENET)
    ssd = SsdMobileNetDetector(
        model.paths[ssd_asset.with_role(Role.MODEL).name],
        model.paths[ssd_asset.with_role(Role.LABELS).name],
        threads=1,
    )
    frames = real_frames(fetch(asset_named(OPENCV_FOOTAGE), cache).paths["vtest.avi"], 40)
    squares = regions(frames, 300)
    print(
        f"pictures: {len(frames)} frames of vtest.avi ({frames[0].shape[1]}×{frames[0].shape[0]})"
    )
    found = sum(len(ssd.detect(frame)) for frame in frames)
    print(f"SSD keeps {found / len(frames):.1f} objects per whole frame (default filter)")

    measure("SSD MobileNet v2, 300×300 regions", ssd.detect, squares, args.calls)
    measure("SSD MobileNet v2, whole 768×576 frames", ssd.detect, frames, args.calls)
    with SharedDetector(ssd) as shared:
        measure("SSD through SharedDetector, 300×300 regions", shared.detect, squares, args.calls)
        figures = shared.figures()
    print(
        f"  shared figures: detector {figures.detector_ms:.2f} ms per call, "
        f"{figures.dropped} dropped"
    )

    with tempfile.TemporaryDirectory() as folder:
        onnx_model = build_square_detector(Path(folder) / "squares.onnx")
        onnx = OnnxDetector(onnx_model, OnnxModelOptions(CLASS_NAMES, threads=1, max_batch=8))
        measure("ONNX test model (64×64), whole frames", onnx.detect, frames, args.calls)
        batches = [frames[at : at + 8] for at in range(0, len(frames), 8)]
        started = time.perf_counter()
        rounds = max(1, args.calls // 8)
        for at in range(rounds):
            onnx.detect_batch(batches[at % len(batches)])
        per_picture = (time.perf_counter() - started) / (rounds * 8)
        print(
            f"{'ONNX test model (64×64), batches of 8':<44} {1 / per_picture:7.1f} pictures/s  "
            f"{1000 * per_picture:6.2f} ms per picture"
        )
    uptime()


if __name__ == "__main__":
    main()
