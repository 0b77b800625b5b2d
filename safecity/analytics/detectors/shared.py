"""One detector shared by a node's cameras: a bounded queue in front of one worker thread.

A node has one CPU budget for detection, whatever its number of cameras; each camera's pipeline
submits its regions here and waits for its own answers. When the detector falls behind and the
queue is full, the **oldest** waiting request is dropped (its caller gets
:class:`DetectionDropped` and counts a skipped frame), never the newest: in live video the latest
picture is the one worth looking at, and a stale one would only delay it. Drops are counted.
Where the backend batches (``max_batch`` > 1), the worker takes up to that many waiting
requests into one inference.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from safecity.analytics.detectors.base import Detector, check_image
from safecity.analytics.frames import Image
from safecity.analytics.objects import Detection

_TIMINGS_KEPT = 100


class DetectionDropped(Exception):
    """A request was not run: a newer one took its place in a full queue, or the shared detector
    stopped first."""


@dataclass(frozen=True, slots=True)
class SharedDetectorFigures:
    requests: int
    """Pictures submitted since start."""
    detected: int
    """Pictures the detector ran on."""
    dropped: int
    """Pictures dropped unrun (a full queue, or stopping)."""
    inferences: int
    """Detector calls (a batch is one call)."""
    queued: int
    """Pictures waiting now."""
    detector_ms: float
    """Mean wall time of one detector call over the last 100 calls, in milliseconds."""
    ms_per_picture: float
    """The same calls' time divided by the pictures they ran on."""


@dataclass(slots=True)
class _Request:
    image: Image
    answer: Future[list[Detection]]


class SharedDetector:
    """A :class:`~safecity.analytics.detectors.base.Detector` itself: a pipeline cannot tell
    a shared detector from its own, but the work happens on this one's worker thread."""

    def __init__(self, detector: Detector, *, queue_size: int = 16, max_batch: int = 8) -> None:
        if queue_size < 1 or max_batch < 1:
            raise ValueError("a shared detector needs a queue of at least 1 and batches of 1+")
        self._detector = detector
        self._queue_size = queue_size
        self._batch = min(max_batch, detector.max_batch)
        self._waiting: deque[_Request] = deque()
        self._changed = threading.Condition()
        """Guards the queue, the counts and the timings; wakes the worker."""
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._requests = self._detected = self._dropped = self._inferences = 0
        self._timings: deque[tuple[float, int]] = deque(maxlen=_TIMINGS_KEPT)

    @property
    def name(self) -> str:
        return f"shared {self._detector.name}"

    @property
    def input_size(self) -> tuple[int, int]:
        return self._detector.input_size

    @property
    def max_batch(self) -> int:
        return self._batch

    def start(self) -> None:
        with self._changed:
            if self._worker is not None:
                raise RuntimeError("the shared detector is already running")
            self._stopping = False
            self._worker = threading.Thread(
                target=self._work, name=f"detector {self._detector.name}", daemon=True
            )
            self._worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the inference under way, drop what still waits, and end the worker."""
        with self._changed:
            worker, self._stopping = self._worker, True
            left = list(self._waiting)
            self._waiting.clear()
            self._dropped += len(left)
            self._changed.notify_all()
        for request in left:
            request.answer.set_exception(DetectionDropped("the shared detector stopped"))
        if worker is not None:
            worker.join(timeout)
        with self._changed:
            self._worker = None

    def __enter__(self) -> SharedDetector:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def submit(self, image: Image) -> Future[list[Detection]]:
        """Queue ``image``; the future gives its detections, or raises DetectionDropped when a
        newer request displaced it, or the detector's own error. ValueError at once for a
        picture no detector takes."""
        check_image(image)
        request = _Request(image, Future())
        displaced = None
        with self._changed:
            if self._worker is None or self._stopping:
                raise RuntimeError("the shared detector is not running: start() it first")
            self._requests += 1
            if len(self._waiting) >= self._queue_size:
                displaced = self._waiting.popleft()
                self._dropped += 1
            self._waiting.append(request)
            self._changed.notify()
        if displaced is not None:
            displaced.answer.set_exception(
                DetectionDropped("dropped for a newer picture: the detector is behind")
            )
        return request.answer

    def detect(self, image: Image) -> list[Detection]:
        return _answer(self.submit(image))

    def detect_batch(self, images: Sequence[Image]) -> list[list[Detection]]:
        answers = [self.submit(image) for image in images]
        return [_answer(answer) for answer in answers]

    def figures(self) -> SharedDetectorFigures:
        with self._changed:
            calls = len(self._timings)
            seconds = sum(taken for taken, _ in self._timings)
            pictures = sum(count for _, count in self._timings)
            return SharedDetectorFigures(
                requests=self._requests,
                detected=self._detected,
                dropped=self._dropped,
                inferences=self._inferences,
                queued=len(self._waiting),
                detector_ms=1000 * seconds / calls if calls else 0.0,
                ms_per_picture=1000 * seconds / pictures if pictures else 0.0,
            )

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._stopping:
                    self._changed.wait()
                if self._stopping:
                    return
                batch = [
                    self._waiting.popleft() for _ in range(min(self._batch, len(self._waiting)))
                ]
            started = time.perf_counter()
            try:
                found = self._detector.detect_batch([request.image for request in batch])
                if len(found) != len(batch):
                    raise RuntimeError(
                        f"{self._detector.name} answered {len(found)} of {len(batch)} pictures"
                    )
            except Exception as exc:  # the callers get the detector's error, the worker goes on
                for request in batch:
                    request.answer.set_exception(exc)
                continue
            taken = time.perf_counter() - started
            with self._changed:
                self._inferences += 1
                self._detected += len(batch)
                self._timings.append((taken, len(batch)))
            for request, detections in zip(batch, found, strict=True):
                request.answer.set_result(detections)


ANSWER_SECONDS = 30.0
"""A caller waits this long for its detections at most: a detector stuck for longer (a
driver hung) lets the camera's frame go instead of its thread."""


def _answer(answer: Future[list[Detection]]) -> list[Detection]:
    try:
        return answer.result(timeout=ANSWER_SECONDS)
    except FutureTimeout as exc:
        answer.cancel()
        raise DetectionDropped(
            f"no answer from the detector within {ANSWER_SECONDS:g} s: it is stuck"
        ) from exc
