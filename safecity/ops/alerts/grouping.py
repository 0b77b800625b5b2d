"""Grouping alerts by area: the same kind near one another, or at one site, within a window.

A burst from one camera is already folded into one alert (its ``dedup_key``). Grouping goes
across cameras: a fight seen by three cameras of one square is three alerts with one
``group_id`` (the first alert's id), so the console can show "3 alerts nearby" instead of three
unrelated lines. Pure: the caller loads the candidates, prefiltered in SQL to the alerts at
the same site or within ``bounding_box`` (so hundreds of open alerts of a kind elsewhere in the
city never crowd a nearby peer out), and ``same_area`` decides on the exact distance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from safecity.settings import OpsSettings

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class AlertGrouping:
    radius_m: float = 150.0
    window: timedelta = timedelta(minutes=2)

    @classmethod
    def from_settings(cls, ops: OpsSettings) -> AlertGrouping:
        return cls(ops.group_radius_m, timedelta(seconds=ops.group_window_seconds))


DEFAULT_GROUPING = AlertGrouping()


@dataclass(frozen=True)
class Placed:
    """An alert as grouping sees it."""

    id: int
    site_id: int | None
    latitude: float | None
    longitude: float | None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres; plenty for a city's few hundred metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Box:
    """Latitude and longitude bounds, in degrees; ``min_lon``/``max_lon`` None: any longitude
    (near a pole or across the antimeridian)."""

    min_lat: float
    max_lat: float
    min_lon: float | None
    max_lon: float | None


def bounding_box(latitude: float, longitude: float, radius_m: float) -> Box:
    """The bounds holding every point within ``radius_m`` of a point (a little wider: it is a
    prefilter; ``distance_m`` decides). Longitude degrees shrink with cos(latitude)."""
    angle = radius_m * 1.001 / EARTH_RADIUS_M + 1e-9
    d_lat = math.degrees(angle)
    min_lat, max_lat = latitude - d_lat, latitude + d_lat
    if min_lat <= -90 or max_lat >= 90:
        return Box(max(min_lat, -90.0), min(max_lat, 90.0), None, None)
    ratio = math.sin(angle) / math.cos(math.radians(latitude))
    if ratio >= 1:
        return Box(min_lat, max_lat, None, None)
    d_lon = math.degrees(math.asin(ratio))
    min_lon, max_lon = longitude - d_lon, longitude + d_lon
    if min_lon < -180 or max_lon > 180:
        return Box(min_lat, max_lat, None, None)
    return Box(min_lat, max_lat, min_lon, max_lon)


def same_area(a: Placed, b: Placed, radius_m: float) -> bool:
    if a.site_id is not None and a.site_id == b.site_id:
        return True
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return False
    return distance_m(a.latitude, a.longitude, b.latitude, b.longitude) <= radius_m


def area_peer(new: Placed, earlier: Iterable[Placed], radius_m: float) -> Placed | None:
    """The first of ``earlier`` (open alerts of the same kind, oldest first, within the
    window) in the same area as ``new``; None when it stands alone."""
    return next((alert for alert in earlier if same_area(new, alert, radius_m)), None)


def group_key(kind: str, group_id: int) -> str:
    return f"{kind}:{group_id}"
