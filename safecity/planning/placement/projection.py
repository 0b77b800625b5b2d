"""Degrees to metres on a plane around the city, so distances are a k-d tree's question.

Equirectangular about the city's centre: x = east metres, y = north metres, each scaled by
the length of a degree at the centre's latitude. Across a city 30 km wide the scale drifts by
tan(latitude) × Δlatitude (0.3 % at Astana's 51° for ±0.13°), a third of a metre on a
100 m camera range: far below what a camera's view range is known to. The console's map
projects the same way (js/geo.js).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


def metres_per_degree(latitude: float) -> tuple[float, float]:
    """Metres in a degree of (latitude, longitude) on the WGS 84 ellipsoid at ``latitude``
    (the usual series; within a few centimetres per degree of the geodesic)."""
    phi = math.radians(latitude)
    along_meridian = 111_132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    along_parallel = (
        111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    )
    return along_meridian, along_parallel


@dataclass(frozen=True)
class LocalProjection:
    """A plane tangent at (``latitude``, ``longitude``)."""

    latitude: float
    longitude: float

    @classmethod
    def around(cls, latitudes: ArrayLike, longitudes: ArrayLike) -> LocalProjection:
        """Centred on the middle of the points' bounding box."""
        lat = np.asarray(latitudes, dtype=float)
        lon = np.asarray(longitudes, dtype=float)
        if lat.size == 0:
            raise ValueError("a projection needs at least one point")
        return cls(float((lat.min() + lat.max()) / 2), float((lon.min() + lon.max()) / 2))

    @property
    def _scale(self) -> tuple[float, float]:
        return metres_per_degree(self.latitude)

    def to_metres(self, latitudes: ArrayLike, longitudes: ArrayLike) -> NDArray[np.float64]:
        """An (n, 2) array of (x east, y north) metres."""
        lat = np.asarray(latitudes, dtype=float)
        lon = np.asarray(longitudes, dtype=float)
        along_meridian, along_parallel = self._scale
        x = (lon - self.longitude) * along_parallel
        y = (lat - self.latitude) * along_meridian
        return np.column_stack([x, y]).reshape(-1, 2)

    def to_degrees(self, xy: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(latitudes, longitudes) of an (n, 2) array of metres."""
        points = np.asarray(xy, dtype=float).reshape(-1, 2)
        along_meridian, along_parallel = self._scale
        latitudes = self.latitude + points[:, 1] / along_meridian
        longitudes = self.longitude + points[:, 0] / along_parallel
        return latitudes, longitudes
