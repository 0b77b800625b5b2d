"""Where a new camera could go: a regular grid over the districts, and the requested points.

The grid is one lattice for the whole plane (points at the centres of ``spacing_m`` squares),
cut to each district's polygon, so neighbouring districts never get two points side by side
at their border and the same query always gives the same points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from safecity.planning.placement.projection import LocalProjection


@dataclass(frozen=True)
class Area:
    """A district on the local plane."""

    district_id: int
    geometry: BaseGeometry

    @property
    def square_metres(self) -> float:
        return float(self.geometry.area)


def area_in_metres(
    district_id: int, geojson: Mapping[str, Any], projection: LocalProjection
) -> Area:
    """A district's GeoJSON (lon/lat) polygon on the plane of ``projection``."""

    def to_plane(coordinates: NDArray[np.float64]) -> NDArray[np.float64]:
        return projection.to_metres(coordinates[:, 1], coordinates[:, 0])

    return Area(district_id, shapely.transform(shape(geojson), to_plane))


def grid_size(areas: Sequence[Area], spacing_m: float) -> int:
    """About how many grid points ``grid_points`` would make: the area over the cell's."""
    return round(sum(area.square_metres for area in areas) / spacing_m**2)


@dataclass(frozen=True)
class GridPoints:
    xy: NDArray[np.float64]
    district_id: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.district_id.size)


def grid_points(areas: Sequence[Area], spacing_m: float) -> GridPoints:
    """The lattice's points inside each area. Districts do not overlap (the city's checks see
    to it) and a point exactly on a border lies inside neither, so no point is listed twice."""
    if not spacing_m > 0:
        raise ValueError("the grid spacing must be larger than 0 m")
    xy: list[NDArray[np.float64]] = [np.empty((0, 2))]
    ids: list[NDArray[np.int64]] = [np.empty(0, dtype=np.int64)]
    for area in areas:
        west, south, east, north = area.geometry.bounds
        columns = np.arange(np.floor(west / spacing_m), np.ceil(east / spacing_m) + 1)
        rows = np.arange(np.floor(south / spacing_m), np.ceil(north / spacing_m) + 1)
        x, y = ((grid.ravel() + 0.5) * spacing_m for grid in np.meshgrid(columns, rows))
        inside = shapely.contains_xy(area.geometry, x, y)
        xy.append(np.column_stack([x[inside], y[inside]]))
        ids.append(np.full(int(inside.sum()), area.district_id, dtype=np.int64))
    return GridPoints(np.concatenate(xy), np.concatenate(ids))
