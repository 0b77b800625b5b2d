"""A decoded picture as the analytics pipeline sees it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
"""A picture: height × width × 3, RGB, 8 bits per channel (or height × width for grey)."""


@dataclass(frozen=True, slots=True)
class Frame:
    image: Image
    """The detect frame (the sub-stream, or the main stream scaled to the detect width), RGB."""
    at: float
    """Wall-clock time it was captured (``time.time()`` seconds): the camera's time."""
    offset: float
    """Seconds from the start of the source: what an offline run of a file reports."""
    index: int
    """The how-many-th frame analysed from this source, from 0."""

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])
