"""Motion: where the picture changes, found cheaply on every decoded frame.

The economy of the whole pipeline rests here (as in Frigate): a still scene costs a decode and
this check, nothing more; the detector only looks at regions around what moves. So the work is
done on a small grey copy of the detect frame (180 rows by default, a quarter of a 640×360
frame's pixels): blurred a little against sensor noise, compared with a *learned background*
(a running average of past pictures), thresholded, dilated so the parts of one walker join up,
and cut into contours. Contours above a minimum area become motion boxes, scaled back to detect
frame pixels.

The background learns slowly (by default it forgets over ~20 s at 5 fps), so a person walking
through leaves no ghost, while a car that parks becomes background within a minute or so (the
objects the detector tracks stay watched meanwhile through their own regions). A sudden change of most of the picture at once —
lights switched on, the camera's exposure or IR mode switching — is not motion: the background
is taken from the new picture and learns fast for a few frames, in which nothing is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from safecity.analytics.frames import Image
from safecity.analytics.masks import PrivacyMasks
from safecity.analytics.objects import Box

Grey = npt.NDArray[np.uint8]
"""A small grey picture, height × width, 8 bits."""

_SETTLING_RATE = 0.2
"""How fast the background follows the picture while it settles (start, lighting change)."""
_DILATION = np.ones((3, 3), np.uint8)


@dataclass(frozen=True, slots=True)
class MotionOptions:
    """How a camera's motion is measured. The defaults suit a 5 fps detect stream."""

    height: int = 180
    """Rows of the small grey picture motion is measured on (never more than the frame's)."""
    threshold: int = 30
    """Grey levels (of 255) a pixel must differ from the background to count as moving."""
    contour_area: int = 20
    """Smallest moving blob reported, in pixels of the small picture (about 4×5)."""
    background_rate: float = 0.01
    """Share of each frame blended into the background: 0.01 forgets the past over ~100
    frames (20 s at 5 fps)."""
    lighting_share: float = 0.5
    """A change of more than this share of the picture at once is lighting, not motion."""
    settle_frames: int = 5
    """Frames in which nothing is reported while the background is learned: at the start and
    after a lighting change."""

    def __post_init__(self) -> None:
        if not 16 <= self.height <= 2160:
            raise ValueError(f"motion height must be 16 to 2160 rows, got {self.height}")
        if not 1 <= self.threshold <= 254:
            raise ValueError(f"motion threshold must be 1 to 254 grey levels, got {self.threshold}")
        if self.contour_area < 1:
            raise ValueError(f"contour area must be at least 1 pixel, got {self.contour_area}")
        if not 0 < self.background_rate < 1:
            raise ValueError(f"background rate must be between 0 and 1, got {self.background_rate}")
        if not 0 < self.lighting_share <= 1:
            raise ValueError(
                f"lighting share must be above 0, at most 1, got {self.lighting_share}"
            )
        if self.settle_frames < 1:
            raise ValueError(f"settle frames must be at least 1, got {self.settle_frames}")


@dataclass(frozen=True, slots=True)
class Motion:
    """What one frame's motion check found."""

    boxes: tuple[Box, ...]
    """Moving areas, in pixels of the detect frame; empty while calibrating."""
    share: float
    """Share of the (unmasked) picture that moves, 0..1; 0 while calibrating."""
    calibrating: bool
    """The background is being learned (the first frames, or after a lighting change)."""
    grey: Grey
    """The small grey picture the check ran on, before masks: the tamper watch reuses it."""


def small_grey(image: Image, height: int) -> Grey:
    """``image`` (RGB, or already grey) in grey, shrunk to ``height`` rows (never enlarged).

    Grey first (the cheapest pass over the big picture), then halved with INTER_AREA while
    at least twice too tall — OpenCV's fast path, each step averaging four pixels, which also
    averages sensor noise away — and the rest of the way with INTER_LINEAR. A single INTER_AREA
    resize by an odd factor (1280×720 to 320×180) costs several times as much.
    """
    _check_picture(image)
    grey = cast(Grey, cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)) if image.ndim == 3 else image
    rows, columns = grey.shape
    while rows >= 2 * height:
        rows, columns = rows // 2, columns // 2
        grey = cast(Grey, cv2.resize(grey, (columns, rows), interpolation=cv2.INTER_AREA))
    if rows > height:
        width = max(1, round(columns * height / rows))
        grey = cast(Grey, cv2.resize(grey, (width, height), interpolation=cv2.INTER_LINEAR))
    return grey


class MotionDetector:
    """One camera's motion, frame after frame (keeps the learned background between calls).

    Not thread-safe: one detector per camera, fed by that camera's decode loop.
    """

    def __init__(self, options: MotionOptions | None = None, masks: PrivacyMasks | None = None):
        self.options = options or MotionOptions()
        self._masks = masks if masks is not None and masks.hides_anything else None
        self._frame_shape: tuple[int, ...] = ()
        self._visible: npt.NDArray[np.uint8] | None = None
        self._visible_pixels = 0
        self._background = np.zeros((0, 0), np.float32)
        self._settling = 0

    def detect(self, image: Image) -> Motion:
        """Motion in ``image``, the detect frame (RGB, or grey), against the background so far.

        A frame of another size than the last restarts the learning (the stream changed).
        """
        grey = small_grey(image, self.options.height)
        blurred = cast(Grey, cv2.GaussianBlur(grey, (3, 3), 0))
        if image.shape != self._frame_shape:
            self._start(image.shape, blurred)
        if self._settling:
            self._settling -= 1
            cv2.accumulateWeighted(blurred, self._background, _SETTLING_RATE)
            return Motion((), 0.0, True, grey)

        difference = cv2.absdiff(blurred, cv2.convertScaleAbs(self._background))
        _, thresholded = cv2.threshold(difference, self.options.threshold, 255, cv2.THRESH_BINARY)
        moving = cast(Grey, thresholded)
        if self._visible is not None:
            moving = cast(Grey, cv2.bitwise_and(moving, self._visible))
        share = cv2.countNonZero(moving) / self._visible_pixels
        if share > self.options.lighting_share:
            self._background = blurred.astype(np.float32)
            self._settling = self.options.settle_frames - 1
            return Motion((), 0.0, True, grey)

        boxes = self._boxes(moving, image.shape[1] / grey.shape[1], image.shape[0] / grey.shape[0])
        cv2.accumulateWeighted(blurred, self._background, self.options.background_rate)
        return Motion(boxes, share, False, grey)

    def _start(self, frame_shape: tuple[int, ...], blurred: Grey) -> None:
        self._frame_shape = frame_shape
        self._background = blurred.astype(np.float32)
        self._settling = self.options.settle_frames
        self._visible = None
        self._visible_pixels = blurred.size
        if self._masks is not None:
            self._visible = self._masks.visibility(blurred.shape[1], blurred.shape[0])
            self._visible_pixels = max(1, cv2.countNonZero(self._visible))

    def _boxes(self, moving: Grey, sx: float, sy: float) -> tuple[Box, ...]:
        joined = cv2.dilate(moving, _DILATION, iterations=2)
        if self._visible is not None:
            joined = cv2.bitwise_and(joined, self._visible)
        contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes = []
        for contour in contours:
            if cv2.contourArea(contour) >= self.options.contour_area:
                x, y, w, h = cv2.boundingRect(contour)
                boxes.append(Box(x * sx, y * sy, (x + w) * sx, (y + h) * sy))
        return tuple(boxes)


def _check_picture(image: Image) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError("a picture must be a numpy array of uint8")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"a picture must be height × width × 3 (RGB) or grey, got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("the picture is empty")
