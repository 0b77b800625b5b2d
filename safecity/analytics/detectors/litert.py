"""SSD MobileNet v2 COCO on LiteRT: the default detector, the same class as Frigate's CPU one.

The model (``mobilenet_ssd_v2_coco_quant_postprocess.tflite``, 8-bit) takes a 300×300 uint8 RGB
picture and does its own post-processing (decoding and non-maximum suppression): out come up
to 20 boxes (ymin, xmin, ymax, xmax as shares of the input), their class ids (as in
``coco_labels.txt``), scores and a count. One inference at a time: the quantised post-processing
op has no batch dimension, so ``detect_batch`` loops.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from safecity.analytics.detectors.base import ObjectFilter, check_image
from safecity.analytics.detectors.coco import classes_by_id, read_labels
from safecity.analytics.detectors.letterbox import letterbox
from safecity.analytics.frames import Image
from safecity.analytics.objects import Box, Detection


class SsdMobileNetDetector:
    """A :class:`~safecity.analytics.detectors.base.Detector` on one LiteRT interpreter
    (XNNPACK on the CPU, ``threads`` threads)."""

    max_batch = 1

    def __init__(
        self,
        model: Path,
        labels: Path,
        *,
        object_filter: ObjectFilter | None = None,
        threads: int = 1,
    ) -> None:
        if threads < 1:
            raise ValueError(f"a detector needs at least one thread, got {threads}")
        self.name = f"ssd_mobilenet_v2 ({model.name})"
        self._filter = object_filter or ObjectFilter()
        self._classes = classes_by_id(read_labels(labels))
        try:
            self._interpreter = Interpreter(model_path=str(model), num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"cannot load the LiteRT model {model}: {exc}") from exc
        [source] = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        shape = tuple(int(side) for side in source["shape"])
        if len(outputs) != 4 or len(shape) != 4 or shape[0] != 1 or shape[3] != 3:
            raise ValueError(
                f"{model} is not an SSD model with post-processing inside (one 1×H×W×3 input; "
                "boxes, classes, scores and count out)"
            )
        if source["dtype"] is not np.uint8:
            raise ValueError(f"{model} takes {source['dtype'].__name__}, not 8-bit pictures")
        self.input_size = (shape[2], shape[1])
        self._input = source["index"]
        self._boxes, self._class_ids, self._scores, self._count = (o["index"] for o in outputs)
        self._lock = threading.Lock()
        """The interpreter runs one inference at a time."""

    def detect(self, image: Image) -> list[Detection]:
        check_image(image)
        fitted, placed = letterbox(image, self.input_size)
        with self._lock:
            self._interpreter.set_tensor(self._input, fitted[np.newaxis])
            self._interpreter.invoke()
            count = int(self._interpreter.get_tensor(self._count)[0])
            boxes = self._interpreter.get_tensor(self._boxes)[0, :count]
            class_ids = self._interpreter.get_tensor(self._class_ids)[0, :count]
            scores = self._interpreter.get_tensor(self._scores)[0, :count]
        width, height = self.input_size
        keep = [
            at
            for at in range(count)
            if scores[at] >= self._filter.lowest_score and int(class_ids[at]) in self._classes
        ]
        if not keep:
            return []
        corners = boxes[keep][:, [1, 0, 3, 2]] * np.array([width, height, width, height])
        found = []
        for at, (x1, y1, x2, y2) in zip(keep, placed.to_picture(corners), strict=True):
            box = Box(float(x1), float(y1), float(x2), float(y2))
            found.append(Detection(self._classes[int(class_ids[at])], float(scores[at]), box))
        return self._filter.apply(found)

    def detect_batch(self, images: Sequence[Image]) -> list[list[Detection]]:
        return [self.detect(image) for image in images]
