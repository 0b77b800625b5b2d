"""A rule's zone and line in pixels: which foot points are inside, and when a path crosses.

Rules keep their geometry in picture shares; these take the detect frame's size once and work
in its pixels from then on. The rule engine and the counts of city life share them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from safecity.analytics.tracking import Track

Direction = Literal["forward", "backward"]


class ZoneShape:
    """A zone drawn in picture shares, in a ``width`` × ``height`` picture's pixels."""

    def __init__(self, points: Sequence[tuple[float, float]], width: int, height: int) -> None:
        self._polygon = Polygon([(x * width, y * height) for x, y in points])
        shapely.prepare(self._polygon)

    def contains(
        self, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.bool_]:
        """Which points are in the zone; its edge counts as in (a box clipped to the picture
        stands on the bottom edge of a whole-picture zone)."""
        return np.asarray(shapely.intersects_xy(self._polygon, xs, ys), dtype=bool)


@dataclass(frozen=True, slots=True)
class Crossing:
    track_id: int
    at: float
    """The frame whose foot point completed the crossing."""
    direction: Direction


@dataclass(slots=True)
class _Side:
    checked_to: float
    """The time of the newest path point looked at."""
    side: int
    """-1 left, +1 right, 0 not yet clear of the line."""
    x: float
    y: float
    """The newest point clear of the line on that side."""


class LineWatch:
    """A line drawn in picture shares, and which side of it each track's foot point is on.

    Sides are read *as seen on the screen*: stand on A facing B; the left side is on your
    left. The picture's y grows downward, so for a line drawn left to right the left side is
    above it, and for a line drawn downward the left side is on the screen's right::

        (0,0) ──▶ x                               A
          │         left side                     │
          ▼ y   A ──────────────▶ B      right    │    left
                    right side           side     │    side
                                                  ▼
                                                  B
        forward (left → right): downward     forward: right to left on the screen

    In pixels, the cross product ``(B - A) × (P - A)`` is negative on the left side and
    positive on the right (the mirror image of the y-up convention of a maths book).

    A crossing is a change of side between consecutive foot points whose step meets the
    segment A–B itself (walking round the end of a line is no crossing). A point counts on a
    side only once it is clear of the line by ``margin`` of the track's box height: a person
    standing on the line, their feet jittering a few pixels either way, crosses nothing.
    """

    def __init__(
        self,
        line: tuple[tuple[float, float], tuple[float, float]],
        width: int,
        height: int,
        margin: float = 0.1,
    ) -> None:
        (ax, ay), (bx, by) = line
        self._a = (ax * width, ay * height)
        self._along = (bx * width - self._a[0], by * height - self._a[1])
        self._length = math.hypot(*self._along)
        self._margin = margin
        self._sides: dict[int, _Side] = {}

    def side(self, x: float, y: float) -> float:
        """Signed distance in pixels from the line through A and B: negative on the left side
        (where a forward crossing starts), positive on the right."""
        (ax, ay), (dx, dy) = self._a, self._along
        return (dx * (y - ay) - dy * (x - ax)) / self._length

    def crossings(self, track: Track) -> list[Crossing]:
        """The crossings of ``track``'s path since the last call for it."""
        state = self._sides.get(track.id)
        since = state.checked_to if state is not None else -math.inf
        fresh = []
        for point in reversed(track.path):
            if point.at <= since:
                break
            fresh.append(point)
        if not fresh:
            return []
        if state is None:
            state = self._sides[track.id] = _Side(since, 0, 0.0, 0.0)
        clear = max(self._margin * track.box.height, 1.0)
        found = []
        for point in reversed(fresh):
            distance = self.side(point.x, point.y)
            if abs(distance) >= clear:
                side = 1 if distance > 0 else -1
                if state.side == -side and self._meets_segment(state.x, state.y, point.x, point.y):
                    found.append(
                        Crossing(track.id, point.at, "forward" if side > 0 else "backward")
                    )
                state.side, state.x, state.y = side, point.x, point.y
        state.checked_to = fresh[0].at
        return found

    def forget(self, track_id: int) -> None:
        self._sides.pop(track_id, None)

    def clear(self) -> None:
        """Forget every track: the next call reads each track's whole path afresh."""
        self._sides.clear()

    def _meets_segment(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether the step (x0, y0) → (x1, y1), whose ends lie on opposite sides of the line,
        meets it between A and B."""
        (ax, ay), (dx, dy) = self._a, self._along
        before = dx * (y0 - ay) - dy * (x0 - ax)
        after = dx * (y1 - ay) - dy * (x1 - ax)
        sx, sy = x1 - x0, y1 - y0
        along = ((x0 - ax) * sy - (y0 - ay) * sx) / (after - before)
        return 0.0 <= along <= 1.0
