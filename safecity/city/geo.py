"""Which district a point lies in. Pure: shapely over GeoJSON, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class DistrictArea:
    district_id: int
    name: str
    geometry: Mapping[str, Any]


def valid_coordinates(latitude: float, longitude: float) -> bool:
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


class DistrictLocator:
    """Answers 'which district is this point in' for any number of districts in O(log n)."""

    def __init__(self, districts: Iterable[DistrictArea]) -> None:
        self._ids: list[int] = []
        self._names: dict[int, str] = {}
        shapes: list[BaseGeometry] = []
        for district in districts:
            geometry = shape(district.geometry)
            if not geometry.is_valid or geometry.is_empty:
                raise ValueError(f"district {district.name!r} has an invalid or empty polygon")
            self._ids.append(district.district_id)
            self._names[district.district_id] = district.name
            shapes.append(geometry)
        self._tree = STRtree(shapes)

    def __len__(self) -> int:
        return len(self._ids)

    def name_of(self, district_id: int) -> str:
        return self._names[district_id]

    def locate(self, latitude: float, longitude: float) -> int | None:
        """The id of the district containing the point, or None.

        A point on a border shared by several districts goes to the lowest district id, so the
        answer never depends on the index's internal order.
        """
        hits = self._tree.query(Point(longitude, latitude), predicate="intersects")
        return min((self._ids[int(index)] for index in hits), default=None)

    def locate_many(self, positions: Sequence[tuple[float, float]]) -> list[int | None]:
        """``locate`` for many (latitude, longitude) pairs in one vectorised index query."""
        if not positions:
            return []
        points = shapely.points([(lon, lat) for lat, lon in positions])
        found: list[int | None] = [None] * len(positions)
        point_indices, shape_indices = self._tree.query(points, predicate="intersects")
        for point_index, shape_index in zip(point_indices, shape_indices, strict=True):
            district_id = self._ids[int(shape_index)]
            current = found[int(point_index)]
            if current is None or district_id < current:
                found[int(point_index)] = district_id
        return found
