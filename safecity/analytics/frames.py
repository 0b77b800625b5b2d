"""A decoded picture as the analytics pipeline sees it: its grey picture at once, its colour
picture only when something asks for it.

Motion and the tamper watch need grey, which a camera's H.264 carries as it is (the luma
plane); only the detector and the snapshots need colour, and converting a frame to RGB costs
about as much as motion and tamper together. So a frame from the decoder holds its luma and
converts to RGB on first use: a still scene is never converted.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
"""A picture: height × width × 3, RGB, 8 bits per channel (or height × width for grey)."""


class Frame:
    __slots__ = ("_colour", "_grey", "_make_colour", "at", "index", "offset")

    def __init__(
        self,
        *,
        at: float,
        offset: float,
        index: int,
        image: Image | None = None,
        grey: Image | None = None,
        colour: Callable[[], Image] | None = None,
    ) -> None:
        """Give ``image`` (RGB; the grey is made from it), or ``grey`` and a way to make the
        colour picture when it is needed."""
        if image is None and (grey is None or colour is None):
            raise ValueError("a frame needs its RGB image, or its grey picture and a colour maker")
        self._colour = image
        self._grey = grey
        self._make_colour = colour
        self.at = at
        """Wall-clock time it was captured (``time.time()`` seconds): the camera's time."""
        self.offset = offset
        """Seconds from the start of the source: what an offline run of a file reports."""
        self.index = index
        """The how-many-th frame analysed from this source, from 0."""

    @property
    def image(self) -> Image:
        """The detect frame in colour (height × width × 3, RGB), made on first use."""
        if self._colour is None:
            assert self._make_colour is not None
            self._colour = self._make_colour()
            self._make_colour = None  # lets go of the decoded frame
        return self._colour

    @property
    def grey(self) -> Image:
        """The detect frame in grey (height × width), full range 0–255."""
        if self._grey is None:
            self._grey = np.asarray(cv2.cvtColor(self.image, cv2.COLOR_RGB2GRAY), np.uint8)
        return self._grey

    @property
    def width(self) -> int:
        return int((self._grey if self._grey is not None else self.image).shape[1])

    @property
    def height(self) -> int:
        return int((self._grey if self._grey is not None else self.image).shape[0])
