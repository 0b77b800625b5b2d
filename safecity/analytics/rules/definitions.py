"""Rules as data: what a camera (or every camera of a site) watches for, and when.

Zones and lines are drawn in the console over a snapshot and kept in **picture shares**: x and
y from 0 to 1, origin at the top left, so a rule survives a change of stream resolution. Each
rule may have a weekly schedule (the site's watch windows); without one it is always on.

Direction of a line: looking along the line from its first point to its second *as drawn on
the screen*, ``forward`` is a crossing from the left side to the right side, ``backward`` the
other way, ``any`` either.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import Polygon as ShapelyPolygon

from safecity.analytics.objects import VEHICLES, ObjectClass
from safecity.city.schedule import WatchWindow

Point = tuple[
    Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)],
    Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)],
]
"""(x, y) in shares of the picture's width and height."""
Polygon = Annotated[list[Point], Field(min_length=3, max_length=64)]
WHOLE_PICTURE: list[tuple[float, float]] = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]

TamperCheck = Literal["covered", "defocus", "moved", "frozen", "dark"]
TAMPER_CHECKS: tuple[TamperCheck, ...] = ("covered", "defocus", "moved", "frozen", "dark")


def _check_polygon(points: list[Point]) -> list[Point]:
    shape = ShapelyPolygon(points)
    if not shape.is_valid:
        raise ValueError("the zone's edges cross each other; draw it again without crossings")
    if shape.area < 1e-4:
        raise ValueError("the zone is too small (under 0.01% of the picture)")
    return points


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Shown on the alert.")
    enabled: bool = True
    schedule: list[WatchWindow] = Field(
        default_factory=list,
        max_length=28,
        description="Weekly windows (city time) in which the rule is on; empty: always.",
    )


class _ZoneRule(_Rule):
    zone: Polygon = Field(
        default_factory=lambda: list(WHOLE_PICTURE),
        description="Polygon in picture shares; the whole picture when not drawn.",
    )

    @field_validator("zone")
    @classmethod
    def _valid_zone(cls, zone: list[Point]) -> list[Point]:
        return _check_polygon(zone)


class ZoneIntrusion(_ZoneRule):
    """An object of one of ``classes`` enters the zone (a closed yard at night, a rail track)."""

    kind: Literal["intrusion"] = "intrusion"
    classes: list[ObjectClass] = Field(default_factory=lambda: [ObjectClass.PERSON], min_length=1)
    seconds: float = Field(
        default=0.0, ge=0, le=3600, description="How long inside before it counts (0: at once)."
    )


class LineCrossing(_Rule):
    kind: Literal["line_crossing"] = "line_crossing"
    line: tuple[Point, Point]
    direction: Literal["any", "forward", "backward"] = "any"
    classes: list[ObjectClass] = Field(default_factory=lambda: [ObjectClass.PERSON], min_length=1)

    @field_validator("line", mode="before")
    @classmethod
    def _two_points(cls, line: object) -> object:
        if isinstance(line, list | tuple) and len(line) != 2:
            raise ValueError(f"a line has two points, A and B; got {len(line)}")
        return line

    @field_validator("line")
    @classmethod
    def _not_a_point(cls, line: tuple[Point, Point]) -> tuple[Point, Point]:
        (ax, ay), (bx, by) = line
        if (ax - bx) ** 2 + (ay - by) ** 2 < 1e-4:
            raise ValueError("the line's two points are the same (draw a longer line)")
        return line


class Loitering(_ZoneRule):
    """Someone stays in the zone longer than ``seconds``."""

    kind: Literal["loitering"] = "loitering"
    classes: list[ObjectClass] = Field(default_factory=lambda: [ObjectClass.PERSON], min_length=1)
    seconds: float = Field(default=60.0, gt=0, le=86400)


class Crowd(_ZoneRule):
    """At least ``count`` objects in the zone for ``seconds``; raised once until it thins."""

    kind: Literal["crowd"] = "crowd"
    classes: list[ObjectClass] = Field(default_factory=lambda: [ObjectClass.PERSON], min_length=1)
    count: int = Field(default=10, ge=2, le=1000)
    seconds: float = Field(default=10.0, ge=0, le=3600)


class StoppedVehicle(_ZoneRule):
    """A vehicle stands still in the zone (a no-stopping lane, a fire access) for ``seconds``."""

    kind: Literal["vehicle_stopped"] = "vehicle_stopped"
    classes: list[ObjectClass] = Field(default_factory=lambda: sorted(VEHICLES), min_length=1)
    seconds: float = Field(default=60.0, gt=0, le=86400)


class ObjectLeft(_ZoneRule):
    """An object (a bag) stays still in the zone for ``seconds`` with nobody beside it."""

    kind: Literal["object_left"] = "object_left"
    classes: list[ObjectClass] = Field(default_factory=lambda: [ObjectClass.BAG], min_length=1)
    seconds: float = Field(default=30.0, gt=0, le=3600)


class Tamper(_Rule):
    """Someone or something spoils the picture: each check raised once at onset and cleared
    when the picture recovers."""

    kind: Literal["tamper"] = "tamper"
    checks: list[TamperCheck] = Field(default_factory=lambda: list(TAMPER_CHECKS), min_length=1)
    sensitivity: Literal["low", "medium", "high"] = "medium"


Rule = Annotated[
    ZoneIntrusion | LineCrossing | Loitering | Crowd | StoppedVehicle | ObjectLeft | Tamper,
    Field(discriminator="kind"),
]
RuleKind = Literal[
    "intrusion", "line_crossing", "loitering", "crowd", "vehicle_stopped", "object_left", "tamper"
]


class CameraRules(BaseModel):
    """Everything one camera's analytics runs with: its rules and its privacy masks."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list, max_length=50)
    masks: list[Polygon] = Field(
        default_factory=list,
        max_length=20,
        description="Privacy masks: blacked out before motion and detection, and on snapshots.",
    )

    @field_validator("masks")
    @classmethod
    def _valid_masks(cls, masks: list[list[Point]]) -> list[list[Point]]:
        return [_check_polygon(mask) for mask in masks]

    @model_validator(mode="after")
    def _names_unique(self) -> CameraRules:
        names = [rule.name for rule in self.rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"two rules of a camera share a name: {', '.join(repeated)}")
        return self
