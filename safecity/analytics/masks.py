"""Privacy masks: parts of the picture nobody may watch (a window into a flat, a neighbour's yard).

A camera's masks are polygons in picture shares (x, y from 0 to 1, as the console draws them
over a snapshot). They are drawn into a *visibility* picture for each size the pipeline needs
(the detect frame, the small grey motion picture, a snapshot), once per size, and
:func:`apply` blacks out the hidden pixels before motion, before detection and on every
exported snapshot — so what a mask covers is never analysed and never leaves the node.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from safecity.analytics.frames import Image

Visibility = npt.NDArray[np.uint8]
"""height × width: 255 where the picture may be seen, 0 where a mask hides it."""

_SUBPIXEL_BITS = 4
"""fillPoly's fixed-point precision: corners land within 1/16 px, so a mask drawn at the
small motion size covers the same place as at the full size."""
_SIZES_KEPT = 8
"""A camera is seen at a few sizes (detect frame, motion picture, snapshot); more means the
stream keeps changing resolution, and old sizes are dropped rather than kept forever."""


class PrivacyMasks:
    """A camera's privacy masks, drawn once per picture size.

    ``polygons`` are lists of at least three (x, y) points in shares of the picture's width
    and height. No polygons: nothing is hidden, and :meth:`apply` hands the picture back as
    it is.
    """

    def __init__(self, polygons: Sequence[Sequence[tuple[float, float]]]) -> None:
        self._polygons = [_checked(number, polygon) for number, polygon in enumerate(polygons, 1)]
        self._drawn: dict[tuple[int, int], Visibility] = {}

    @property
    def hides_anything(self) -> bool:
        return bool(self._polygons)

    def visibility(self, width: int, height: int) -> Visibility:
        """The masks drawn at ``width`` × ``height`` (read-only; drawn once per size)."""
        if width <= 0 or height <= 0:
            raise ValueError(
                f"a picture size needs a positive width and height, got {width}×{height}"
            )
        drawn = self._drawn.get((width, height))
        if drawn is None:
            if len(self._drawn) >= _SIZES_KEPT:
                self._drawn.clear()
            drawn = self._draw(width, height)
            drawn.flags.writeable = False
            self._drawn[(width, height)] = drawn
        return drawn

    def apply(self, image: Image) -> Image:
        """``image`` (RGB or grey) with the masked pixels black: a new picture when anything is
        hidden, ``image`` itself when there are no masks."""
        if not self._polygons:
            return image
        return apply(image, self.visibility(image.shape[1], image.shape[0]))

    def _draw(self, width: int, height: int) -> Visibility:
        visible = np.full((height, width), 255, np.uint8)
        scale = 1 << _SUBPIXEL_BITS
        corners = [
            np.array(
                [[round(x * width * scale), round(y * height * scale)] for x, y in polygon],
                np.int32,
            )
            for polygon in self._polygons
        ]
        cv2.fillPoly(visible, corners, 0, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        return visible


def apply(image: Image, visibility: Visibility) -> Image:
    """A copy of ``image`` (height × width × 3 RGB, or height × width grey) black wherever
    ``visibility`` is 0. The two must be the same size."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(
            f"a picture must be height × width (× 3) of uint8, got {image.dtype} {image.shape}"
        )
    if image.shape[:2] != visibility.shape:
        raise ValueError(
            f"the mask is {visibility.shape[1]}×{visibility.shape[0]} but the picture is "
            f"{image.shape[1]}×{image.shape[0]}"
        )
    return cast(Image, cv2.bitwise_and(image, image, mask=visibility))


def _checked(number: int, polygon: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    try:
        points = [tuple(point) for point in polygon]
    except TypeError:
        raise ValueError(f"privacy mask {number} must be a list of (x, y) points") from None
    if len(points) < 3:
        raise ValueError(f"privacy mask {number} needs at least 3 points, got {len(points)}")
    for point in points:
        if len(point) != 2 or not all(
            isinstance(share, int | float) and math.isfinite(share) and 0 <= share <= 1
            for share in point
        ):
            raise ValueError(
                f"privacy mask {number}: each point is (x, y) in shares of the picture, "
                f"0 to 1; got {point!r}"
            )
    return [(float(x), float(y)) for x, y in points]
