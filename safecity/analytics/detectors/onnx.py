"""A city's own detector model on ONNX Runtime: YOLO-style outputs, the classes it names.

The model takes ``batch × 3 × height × width`` float RGB in 0..1 (letterboxed, grey 114 around)
and gives one output in either of the two layouts YOLO exports use:

- ``[batch, 4 + classes, anchors]`` (YOLOv8 and later): per anchor cx, cy, w, h in input
  pixels, then a score per class;
- ``[batch, anchors, 5 + classes]`` (YOLOv5): cx, cy, w, h, objectness, then class scores
  (a class's score is objectness × its own).

Post-processing is ours: the best class per anchor, a score cut, class-aware non-maximum
suppression (OpenCV's ``NMSBoxesBatched``), boxes back to the picture, the per-class filter.
Labels the city does not watch are dropped before suppression. A model whose batch dimension is
dynamic runs ``detect_batch`` as one inference of up to ``max_batch`` pictures.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from safecity.analytics.detectors.base import ObjectFilter, check_image
from safecity.analytics.detectors.coco import classes_by_id
from safecity.analytics.detectors.letterbox import Letterbox, letterbox
from safecity.analytics.frames import Image
from safecity.analytics.objects import Box, Detection

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class OnnxModelOptions:
    class_names: tuple[str, ...]
    """The model's classes in its own order (its class index → label); labels that are not
    ours (``class_for_label``) are dropped."""
    input_size: tuple[int, int] | None = None
    """(width, height); needed only when the model's own are dynamic, else must match them."""
    score_threshold: float = 0.25
    """Candidates under this score are not considered (before suppression and the filter)."""
    nms_iou: float = 0.45
    """Overlap (IoU) above which the lower-scored of two boxes of one class is suppressed."""
    threads: int = 1
    max_batch: int = 8
    """The most pictures one inference takes, when the model's batch dimension is dynamic."""

    def __post_init__(self) -> None:
        if not self.class_names:
            raise ValueError("an ONNX detector needs its model's class names, in order")
        if not 0.0 <= self.score_threshold <= 1.0 or not 0.0 < self.nms_iou <= 1.0:
            raise ValueError("score threshold and NMS IoU are shares between 0 and 1")
        if self.threads < 1 or self.max_batch < 1:
            raise ValueError("threads and max_batch are at least 1")


class OnnxDetector:
    """A :class:`~safecity.analytics.detectors.base.Detector` on an ONNX Runtime session."""

    def __init__(
        self,
        model: Path,
        options: OnnxModelOptions,
        *,
        object_filter: ObjectFilter | None = None,
    ) -> None:
        self.name = f"onnx ({model.name})"
        self._options = options
        self._filter = object_filter or ObjectFilter()
        self._classes = classes_by_id(options.class_names)
        settings = ort.SessionOptions()
        settings.intra_op_num_threads = options.threads
        settings.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(model), settings, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own exception types (Fail, InvalidGraph, …)
            raise ValueError(f"cannot load the ONNX model {model}: {exc}") from exc
        [source] = self._session.get_inputs()
        shape = list(source.shape)
        if len(shape) != 4 or shape[1] != 3:
            raise ValueError(f"{model} takes {shape}: expected batch × 3 × height × width")
        if source.type not in ("tensor(float)", "tensor(float16)"):
            raise ValueError(f"{model} takes {source.type}: expected float pictures")
        self._input, self._dtype = source.name, np.float16 if "16" in source.type else np.float32
        self.input_size = _input_size(model, shape, options.input_size)
        fixed_batch = shape[0] if isinstance(shape[0], int) else None
        if fixed_batch not in (None, 1):
            raise ValueError(f"{model} has a fixed batch of {fixed_batch}: export it with 1")
        self.max_batch = options.max_batch if fixed_batch is None else 1
        self._lock = threading.Lock()
        """One inference at a time: ORT's own threads do the parallel work."""

    def detect(self, image: Image) -> list[Detection]:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[list[Detection]]:
        found: list[list[Detection]] = []
        for start in range(0, len(images), self.max_batch):
            found += self._run(images[start : start + self.max_batch])
        return found

    def _run(self, images: Sequence[Image]) -> list[list[Detection]]:
        placements: list[Letterbox] = []
        batch = np.empty((len(images), 3, self.input_size[1], self.input_size[0]), self._dtype)
        for at, image in enumerate(images):
            check_image(image)
            fitted, placed = letterbox(image, self.input_size)
            batch[at] = fitted.transpose(2, 0, 1) / np.float32(255)
            placements.append(placed)
        with self._lock:
            output = np.asarray(self._session.run(None, {self._input: batch})[0], np.float32)
        return [
            self._detections(self._candidates(output[at]), placed)
            for at, placed in enumerate(placements)
        ]

    def _candidates(self, output: Floats) -> Floats:
        """One picture's anchors as rows: cx, cy, w, h, then each class's score."""
        classes = len(self._options.class_names)
        if output.ndim == 2 and output.shape[0] == 4 + classes:
            return np.ascontiguousarray(output.T)
        if output.ndim == 2 and output.shape[1] == 5 + classes:
            return np.concatenate([output[:, :4], output[:, 5:] * output[:, 4:5]], axis=1)
        raise ValueError(
            f"the model's output is {list(output.shape)} per picture: for {classes} classes "
            f"expected [{4 + classes}, anchors] (YOLOv8) or [anchors, {5 + classes}] (YOLOv5)"
        )

    def _detections(self, rows: Floats, placed: Letterbox) -> list[Detection]:
        class_ids = rows[:, 4:].argmax(axis=1)
        scores = rows[np.arange(len(rows)), 4 + class_ids]
        cut = max(self._options.score_threshold, self._filter.lowest_score)
        watched = np.isin(class_ids, list(self._classes))
        keep = np.flatnonzero((scores >= cut) & watched)
        if keep.size == 0:
            return []
        centres, sizes = rows[keep, 0:2], rows[keep, 2:4]
        corners = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        chosen = cv2.dnn.NMSBoxesBatched(
            np.concatenate([corners[:, :2], sizes], axis=1).tolist(),
            scores[keep].tolist(),
            class_ids[keep].tolist(),
            cut,
            self._options.nms_iou,
        )
        picked = np.asarray(chosen, dtype=np.int64).reshape(-1)
        boxes = placed.to_picture(corners[picked])
        found = [
            Detection(
                self._classes[int(class_ids[keep[at]])],
                float(scores[keep[at]]),
                Box(float(x1), float(y1), float(x2), float(y2)),
            )
            for at, (x1, y1, x2, y2) in zip(picked, boxes, strict=True)
        ]
        return self._filter.apply(found)


def _input_size(
    model: Path, shape: list[object], wanted: tuple[int, int] | None
) -> tuple[int, int]:
    height, width = shape[2], shape[3]
    if isinstance(width, int) and isinstance(height, int):
        if wanted is not None and wanted != (width, height):
            raise ValueError(f"{model} takes {width}×{height}, not the {wanted[0]}×{wanted[1]} set")
        return (width, height)
    if wanted is None:
        raise ValueError(f"{model} has a dynamic input size: set the input size (width, height)")
    return wanted
