"""A live camera's analysis: fed by ingest without ever holding it up, frames at the detect
rate, and when the analysis is slower than the camera, frames let go and counted."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from safecity.analytics.decoding import DecodeOptions
from safecity.analytics.frames import Frame
from safecity.analytics.watch import CameraWatch, WatchOptions
from safecity.video.ingest.worker import IngestOptions, IngestWorker

pytestmark = pytest.mark.slow  # each watches a real-time stream for a few seconds


def _watch_for(seconds: float, source: Path, watch: CameraWatch) -> None:
    worker = IngestWorker("PLAZA", str(source), [watch], IngestOptions())
    watch.start()
    worker.start()
    try:
        time.sleep(seconds)
    finally:
        worker.request_stop()
        worker.stop()
        watch.stop()


def test_a_live_camera_is_analysed_at_the_detect_rate(plaza_h264: Path) -> None:
    frames: list[Frame] = []
    watch = CameraWatch("PLAZA", frames.append, WatchOptions(decode=DecodeOptions(detect_fps=5)))
    _watch_for(4.0, plaza_h264, watch)
    figures = watch.figures()
    assert 15 <= len(frames) <= 21, len(frames)  # ~5 a second for ~4 s
    assert figures.skipped == 0 and figures.errors == 0
    assert not figures.streaming  # the stream was closed when the worker stopped
    assert 4 <= figures.analysed_fps <= 6
    assert 8 <= figures.decode_fps <= 12  # the file's 10 fps, every frame decoded
    # Frames carry the camera's time: recent, in order.
    assert all(0 <= time.time() - f.at < 10 for f in frames)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert frames[0].image.shape == (480, 640, 3)


def test_a_slow_analysis_lets_frames_go_and_counts_them_instead_of_queueing(
    plaza_h264: Path,
) -> None:
    analysed: list[Frame] = []

    def slow(frame: Frame) -> None:
        analysed.append(frame)
        time.sleep(1.0)  # a detector five times too slow for 5 fps

    options = WatchOptions(decode=DecodeOptions(detect_fps=5), queue_packets=10)
    watch = CameraWatch("PLAZA", slow, options)
    _watch_for(5.0, plaza_h264, watch)
    figures = watch.figures()
    assert len(analysed) <= 6
    assert figures.skipped >= 15, figures  # most of ~50 frames let go, not queued
    assert figures.skipped_fps > 0
    # What was analysed was never far behind the camera.
    assert all(b.at - a.at < 4.0 for a, b in itertools.pairwise(analysed))


def test_a_failing_analysis_is_counted_and_the_next_frame_is_analysed(plaza_h264: Path) -> None:
    seen: list[int] = []

    def flaky(frame: Frame) -> None:
        seen.append(frame.index)
        if frame.index % 2 == 0:
            raise RuntimeError("a bug in a stage")

    watch = CameraWatch("PLAZA", flaky)
    _watch_for(2.5, plaza_h264, watch)
    assert len(seen) >= 8
    assert watch.figures().errors == sum(1 for index in seen if index % 2 == 0)


def test_the_sink_never_waits_for_the_analysis(plaza_h264: Path) -> None:
    blocked = threading.Event()

    def stuck(frame: Frame) -> None:
        blocked.wait(10)

    watch = CameraWatch("PLAZA", stuck, WatchOptions(queue_packets=5))
    worker = IngestWorker("PLAZA", str(plaza_h264), [watch], IngestOptions())
    watch.start()
    worker.start()
    try:
        time.sleep(3.0)
        # Ingest kept taking packets at the camera's pace although the analysis is stuck.
        assert worker.health().packets >= 25
        assert watch.figures().skipped >= 10
    finally:
        blocked.set()
        worker.request_stop()
        worker.stop()
        watch.stop()
