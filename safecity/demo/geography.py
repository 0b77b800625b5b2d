"""The demo city's map: Astana's outline cut into its five districts, and where people live.

The outline and the lines that cut it are drawn by hand to look like Astana (the Yesil river
separating the old right bank from the new left bank); they are plausible, not surveyed. The
district polygons come out of shapely's ``split`` of one outline, so they tile the city exactly
and share their borders. Pure and deterministic: no randomness here except through the
``numpy.random.Generator`` a caller passes in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, mapping, shape
from shapely.ops import split

Coordinates = tuple[np.ndarray, np.ndarray]
"""Longitudes and latitudes of a batch of points, as two float arrays of equal length."""

KM_PER_DEGREE_LATITUDE = 111.2
# Positions are stored with 6 decimals (about 10 cm): points are rounded before any test of
# which district they lie in, so the stored value and the checked value are the same number.
DECIMALS = 6

CENTRE = (71.445, 51.160)
"""lon, lat: the old centre on the right bank, by the river."""

OUTLINE = Polygon(
    [
        (71.240, 51.130), (71.262, 51.180), (71.300, 51.222), (71.360, 51.248),
        (71.430, 51.262), (71.500, 51.256), (71.565, 51.238), (71.620, 51.205),
        (71.655, 51.165), (71.650, 51.120), (71.615, 51.085), (71.555, 51.060),
        (71.480, 51.040), (71.400, 51.032), (71.330, 51.040), (71.280, 51.065),
        (71.250, 51.095),
    ]
)  # fmt: skip

# The Yesil (Ishim) flows in from the east, bends north round the old centre and leaves west.
RIVER = LineString(
    [
        (71.750, 51.120), (71.640, 51.128), (71.580, 51.138), (71.530, 51.148),
        (71.490, 51.156), (71.455, 51.160), (71.430, 51.158), (71.410, 51.152),
        (71.390, 51.143), (71.360, 51.136), (71.320, 51.131), (71.280, 51.128),
        (71.150, 51.125),
    ]
)  # fmt: skip
# The dividers end exactly on a vertex of the river, so that cutting a bank adds no vertex to
# the river bank that the district across the water would lack.
SARYARKA_BAIKONYR = LineString([(71.416, 51.350), (71.410, 51.152)])
BAIKONYR_ALMATY = LineString([(71.494, 51.350), (71.490, 51.156)])
YESIL_NURA = LineString([(71.360, 51.136), (71.360, 51.105), (71.430, 51.085), (71.750, 51.085)])


@dataclass(frozen=True)
class Hub:
    """A centre of activity: homes, shops and cameras thin out with distance from it."""

    longitude: float
    latitude: float
    radius_km: float
    weight: float


@dataclass(frozen=True)
class DistrictPlan:
    code: str
    name: str
    population: int
    hubs: tuple[Hub, ...]


# Populations are plausible round figures for the mid-2020s, about 1.35 million in all.
DISTRICT_PLANS: tuple[DistrictPlan, ...] = (
    DistrictPlan(
        "almaty", "Almaty district", 372_000,
        (Hub(71.520, 51.160, 1.8, 1.0), Hub(71.565, 51.172, 2.5, 0.6), Hub(71.545, 51.205, 2.5, 0.3)),
    ),
    DistrictPlan(
        "baikonyr", "Baikonyr district", 246_000,
        (Hub(71.452, 51.178, 1.6, 1.0), Hub(71.455, 51.208, 2.0, 0.5)),
    ),
    DistrictPlan(
        "nura", "Nura district", 186_000,
        (Hub(71.330, 51.112, 2.2, 0.8), Hub(71.400, 51.072, 2.5, 0.6)),
    ),
    DistrictPlan(
        "saryarka", "Saryarka district", 318_000,
        (Hub(71.392, 51.172, 1.8, 1.0), Hub(71.395, 51.205, 1.5, 0.6), Hub(71.330, 51.172, 2.5, 0.4)),
    ),
    DistrictPlan(
        "yesil", "Yesil district", 232_000,
        (Hub(71.430, 51.130, 1.6, 1.0), Hub(71.410, 51.108, 2.0, 0.5), Hub(71.500, 51.118, 2.5, 0.4)),
    ),
)  # fmt: skip

# A point well inside each piece, to tell the pieces of a split apart.
_ANCHORS = {
    "right_bank": Point(71.450, 51.220),
    "saryarka": Point(71.330, 51.190),
    "baikonyr": Point(71.455, 51.200),
    "yesil": Point(71.450, 51.120),
}


def _split_off(polygon: Polygon, line: LineString, anchor: Point) -> tuple[Polygon, Polygon]:
    """The piece of ``polygon`` on ``anchor``'s side of ``line``, and the piece on the other."""
    pieces = list(split(polygon, line).geoms)
    if len(pieces) != 2:
        raise ValueError(f"a dividing line must cut its polygon in two, got {len(pieces)} pieces")
    first, second = pieces
    return (first, second) if first.contains(anchor) else (second, first)


def district_geometries() -> dict[str, dict[str, Any]]:
    """GeoJSON Polygon of each district by code, with coordinates on the stored 6-decimal grid."""
    right_bank, left_bank = _split_off(OUTLINE, RIVER, _ANCHORS["right_bank"])
    saryarka, east_of_saryarka = _split_off(right_bank, SARYARKA_BAIKONYR, _ANCHORS["saryarka"])
    baikonyr, almaty = _split_off(east_of_saryarka, BAIKONYR_ALMATY, _ANCHORS["baikonyr"])
    yesil, nura = _split_off(left_bank, YESIL_NURA, _ANCHORS["yesil"])
    pieces = {
        "almaty": almaty,
        "baikonyr": baikonyr,
        "nura": nura,
        "saryarka": saryarka,
        "yesil": yesil,
    }
    # Snapping each piece to the same grid keeps shared borders identical on both sides.
    grid = 10.0**-DECIMALS
    return {code: _geojson(shapely.set_precision(piece, grid)) for code, piece in pieces.items()}


def _geojson(polygon: Polygon) -> dict[str, Any]:
    rings = mapping(shapely.normalize(polygon))["coordinates"]
    return {
        "type": "Polygon",
        "coordinates": [
            [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in ring] for ring in rings
        ],
    }


def as_polygon(geometry: dict[str, Any]) -> Polygon:
    polygon = shape(geometry)
    assert isinstance(polygon, Polygon)
    return polygon


def _degrees(latitude: float, km: float) -> tuple[float, float]:
    """(longitude, latitude) degrees spanned by ``km`` at ``latitude``."""
    return km / (
        KM_PER_DEGREE_LATITUDE * math.cos(math.radians(latitude))
    ), km / KM_PER_DEGREE_LATITUDE


def points_within(
    rng: np.random.Generator,
    areas: Sequence[Polygon],
    count: int,
    draw: Callable[[np.random.Generator, int], Coordinates],
) -> Coordinates:
    """``count`` points from ``draw``, rounded to the stored grid, keeping only those strictly
    inside one of ``areas``: a point on a border between districts belongs to neither."""
    for area in areas:
        shapely.prepare(area)
    longitudes: list[np.ndarray] = []
    latitudes: list[np.ndarray] = []
    found = 0
    while found < count:
        x, y = draw(rng, 2 * (count - found) + 8)
        x, y = np.round(x, DECIMALS), np.round(y, DECIMALS)
        inside = np.zeros(x.shape, dtype=bool)
        for area in areas:
            inside |= shapely.contains_xy(area, x, y)
        longitudes.append(x[inside])
        latitudes.append(y[inside])
        found += int(inside.sum())
    return np.concatenate(longitudes)[:count], np.concatenate(latitudes)[:count]


def around(
    longitude: float, latitude: float, radius_km: float
) -> Callable[[np.random.Generator, int], Coordinates]:
    """Draws points scattered normally around one place."""
    d_lon, d_lat = _degrees(latitude, radius_km)

    def draw(rng: np.random.Generator, n: int) -> Coordinates:
        return rng.normal(longitude, d_lon, n), rng.normal(latitude, d_lat, n)

    return draw


def by_density(
    hubs: tuple[Hub, ...], area: Polygon, uniform_share: float
) -> Callable[[np.random.Generator, int], Coordinates]:
    """Draws points from the hubs' density, plus ``uniform_share`` spread evenly over the area's
    bounding box, so that outskirts get some too."""
    weights = np.array([hub.weight for hub in hubs])
    weights = weights / weights.sum()
    west, south, east, north = area.bounds

    def draw(rng: np.random.Generator, n: int) -> Coordinates:
        choice = rng.choice(len(hubs), size=n, p=weights)
        x = np.empty(n)
        y = np.empty(n)
        for index, hub in enumerate(hubs):
            mask = choice == index
            d_lon, d_lat = _degrees(hub.latitude, hub.radius_km)
            x[mask] = rng.normal(hub.longitude, d_lon, int(mask.sum()))
            y[mask] = rng.normal(hub.latitude, d_lat, int(mask.sum()))
        even = rng.random(n) < uniform_share
        x[even] = rng.uniform(west, east, int(even.sum()))
        y[even] = rng.uniform(south, north, int(even.sum()))
        return x, y

    return draw
