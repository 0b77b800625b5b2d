"""What the detector finds: object classes in the city's words, boxes and detections.

Boxes are in pixels of the picture the pipeline analyses (the detect frame), as floats,
``x1 <= x2`` and ``y1 <= y2``. Rules keep their zones and lines in picture shares (0..1), so
they survive a change of stream resolution; :meth:`Box.scaled` converts between the two.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ObjectClass(enum.StrEnum):
    """The objects that matter to a city. Each detector maps its own labels onto these (the
    COCO model's ``motorcycle`` and ``motorbike`` are both ``motorcycle``); anything else a
    model finds is dropped."""

    PERSON = "person"
    BICYCLE = "bicycle"
    CAR = "car"
    MOTORCYCLE = "motorcycle"
    BUS = "bus"
    TRUCK = "truck"
    BAG = "bag"
    """A backpack, handbag or suitcase: what an object left behind usually is."""


VEHICLES = frozenset({ObjectClass.CAR, ObjectClass.MOTORCYCLE, ObjectClass.BUS, ObjectClass.TRUCK})
"""What a stopped-vehicle rule watches, unless it names its own classes."""


@dataclass(frozen=True, slots=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        if not (self.x1 <= self.x2 and self.y1 <= self.y2):
            raise ValueError(f"a box needs x1 <= x2 and y1 <= y2, got {self}")

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def foot(self) -> tuple[float, float]:
        """The middle of the bottom edge: where a person or a vehicle stands on the ground,
        the point zones and lines are tested against (as in Frigate and most VMS)."""
        return ((self.x1 + self.x2) / 2, self.y2)

    def iou(self, other: Box) -> float:
        """Intersection over union, 0..1."""
        width = min(self.x2, other.x2) - max(self.x1, other.x1)
        height = min(self.y2, other.y2) - max(self.y1, other.y1)
        if width <= 0 or height <= 0:
            return 0.0
        inter = width * height
        return inter / (self.area + other.area - inter)

    def scaled(self, sx: float, sy: float) -> Box:
        return Box(self.x1 * sx, self.y1 * sy, self.x2 * sx, self.y2 * sy)

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy)

    def clipped(self, width: float, height: float) -> Box:
        """This box inside a ``width`` × ``height`` picture."""
        x1 = min(max(self.x1, 0.0), width)
        y1 = min(max(self.y1, 0.0), height)
        return Box(x1, y1, min(max(self.x2, x1), width), min(max(self.y2, y1), height))

    def as_list(self) -> list[float]:
        return [round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1)]


@dataclass(frozen=True, slots=True)
class Detection:
    object_class: ObjectClass
    score: float
    """The detector's confidence, 0..1."""
    box: Box
