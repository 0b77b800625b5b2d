"""Fitting a picture into a model's input without changing its shape, and boxes back out.

The picture is scaled to fit, centred, and the rest filled with grey (114, as YOLO trains
with): a person in a wide crop stays person-shaped. A region already of the model's size is
passed as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from safecity.analytics.frames import Image

FILL = 114


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a ``width`` × ``height`` picture was placed in the model's input: scaled by
    ``scale``, its top-left corner at (``pad_x``, ``pad_y``)."""

    scale: float
    pad_x: int
    pad_y: int
    width: int
    height: int

    def to_picture(self, boxes: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """Boxes (N × 4: x1, y1, x2, y2 in input pixels) in the picture's pixels, clipped to
        it."""
        mapped = np.empty((len(boxes), 4), dtype=np.float64)
        mapped[:, 0::2] = (boxes[:, 0::2] - self.pad_x) / self.scale
        mapped[:, 1::2] = (boxes[:, 1::2] - self.pad_y) / self.scale
        np.clip(mapped[:, 0::2], 0, self.width, out=mapped[:, 0::2])
        np.clip(mapped[:, 1::2], 0, self.height, out=mapped[:, 1::2])
        return mapped


def letterbox(image: Image, size: tuple[int, int]) -> tuple[Image, Letterbox]:
    """``image`` fitted into ``size`` (width, height), and how it was placed."""
    height, width = image.shape[:2]
    target_width, target_height = size
    if (width, height) == size:
        return image, Letterbox(1.0, 0, 0, width, height)
    scale = min(target_width / width, target_height / height)
    new_width = max(1, min(target_width, round(width * scale)))
    new_height = max(1, min(target_height, round(height * scale)))
    shrinking = scale < 1
    resized = cv2.resize(
        image,
        (new_width, new_height),
        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
    )
    pad_x, pad_y = (target_width - new_width) // 2, (target_height - new_height) // 2
    fitted = np.full((target_height, target_width, 3), FILL, dtype=np.uint8)
    fitted[pad_y : pad_y + new_height, pad_x : pad_x + new_width] = resized
    return fitted, Letterbox(scale, pad_x, pad_y, width, height)
