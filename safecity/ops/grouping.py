"""Grouping alerts by area: the same kind near one another, or at one site, within a window.

A burst from one camera is already folded into one alert (its ``dedup_key``). Grouping goes
across cameras: a fight seen by three cameras of one square is three alerts with one
``group_id`` (the first alert's id), so the console can show "3 alerts nearby" instead of three
unrelated lines. Pure: the caller loads the candidates.
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
