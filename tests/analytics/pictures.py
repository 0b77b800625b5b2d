"""Pictures for the motion, region and tamper tests: synthetic scenes built with numpy/cv2 and
the real footage decoded with PyAV."""

from __future__ import annotations

from collections.abc import Iterator

import av
import cv2
import numpy as np

from safecity.analytics.frames import Image
from tests.support.footage import footage


def textured_scene(width: int, height: int, seed: int = 1) -> Image:
    """An RGB street-like picture: blotchy texture (walls, tarmac, grass) with sharp-edged
    shapes of many colours on it (windows, signs, cars)."""
    rng = np.random.default_rng(seed)
    blotches = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    scene = cv2.resize(blotches, (width, height), interpolation=cv2.INTER_CUBIC)
    scene = cv2.GaussianBlur(scene, (0, 0), 2)
    for _ in range(40):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = (
            int(rng.integers(width // 40, width // 8)),
            int(rng.integers(height // 30, height // 6)),
        )
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            cv2.rectangle(scene, (x, y), (x + w, y + h), colour, -1)
        else:
            cv2.circle(scene, (x, y), h // 2 + 1, colour, -1)
    return scene


def with_noise(image: Image, rng: np.random.Generator, sigma: float = 2.0) -> Image:
    """``image`` as a sensor sees it: a little Gaussian noise, different every frame."""
    noise = rng.standard_normal(image.shape, dtype=np.float32) * sigma
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def walker(scene: Image, x: int, y: int, width: int, height: int) -> Image:
    """``scene`` with a dark figure (a walker's box) at ``x``, ``y``."""
    picture = scene.copy()
    cv2.rectangle(picture, (x, y), (x + width - 1, y + height - 1), (25, 20, 30), -1)
    return picture


def decoded(name: str) -> Iterator[Image]:
    """The frames of one of the real clips (``vtest.avi``, ``tree.avi``), RGB, in order."""
    with av.open(str(footage(name))) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")
