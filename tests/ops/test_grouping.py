"""Grouping alerts by area: the bounding box that prefilters the candidates in SQL (pure), and
a nearby peer found however many alerts of the kind are open elsewhere (SQLite, PostgreSQL)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from safecity.ops.alerts.grouping import AlertGrouping, Box, bounding_box, distance_m
from safecity.ops.alerts.intake import GROUP_CANDIDATES, raise_alert
from safecity.ops.models import Alert, AlertSource, AlertStatus
from safecity.store.engine import Database

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
GROUPING = AlertGrouping(radius_m=150, window=timedelta(minutes=10))


def _offset(
    latitude: float, longitude: float, metres: float, bearing: float
) -> tuple[float, float]:
    """The point ``metres`` away on ``bearing`` (degrees from north), on the sphere."""
    angle = metres / 6_371_008.8
    phi, lam, theta = math.radians(latitude), math.radians(longitude), math.radians(bearing)
    phi2 = math.asin(
        math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(phi),
        math.cos(angle) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


def _inside(box: Box, latitude: float, longitude: float) -> bool:
    if not box.min_lat <= latitude <= box.max_lat:
        return False
    if box.min_lon is None or box.max_lon is None:
        return True
    return box.min_lon <= longitude <= box.max_lon


@pytest.mark.parametrize("latitude", [0.0, 43.24, 51.15, 69.0, -33.9])
def test_the_box_holds_every_point_within_the_radius(latitude: float) -> None:
    box = bounding_box(latitude, 71.45, 150)

    for bearing in range(0, 360, 5):
        lat, lon = _offset(latitude, 71.45, 150, bearing)
        assert 149.9 < distance_m(latitude, 71.45, lat, lon) < 150.1
        assert _inside(box, lat, lon), bearing
    far_lat, far_lon = _offset(latitude, 71.45, 400, 90)
    assert not _inside(box, far_lat, far_lon)
    assert not _inside(box, *_offset(latitude, 71.45, 400, 0))


def test_longitude_degrees_shrink_with_latitude() -> None:
    equator, north = bounding_box(0.0, 10.0, 1000), bounding_box(60.0, 10.0, 1000)

    assert equator.max_lat - equator.min_lat == pytest.approx(north.max_lat - north.min_lat)
    assert north.max_lon is not None and equator.max_lon is not None
    assert north.max_lon - 10.0 == pytest.approx(2 * (equator.max_lon - 10.0), rel=1e-3)


def test_near_a_pole_or_the_antimeridian_any_longitude_passes() -> None:
    assert bounding_box(89.9999, 10.0, 150).min_lon is None
    assert bounding_box(51.0, 179.9999, 150).min_lon is None
    assert bounding_box(51.0, 179.9999, 150).min_lat < 51.0


def test_a_nearby_peer_is_found_behind_hundreds_of_open_alerts_elsewhere(
    database: Database,
) -> None:
    """Review finding 9: more than ``GROUP_CANDIDATES`` older open alerts of the kind across
    the city (a district power cut) used to fill the candidate list, and the peer 140 m away
    was missed: the groups split."""
    centre = (51.15, 71.45)
    with database.session() as s:
        for index in range(GROUP_CANDIDATES + 20):
            lat, lon = _offset(*centre, 3000 + index, index * 7 % 360)
            s.add(
                Alert(
                    source=AlertSource.CAMERA_HEALTH,
                    kind="offline",
                    priority=3,
                    title=f"Camera {index} offline",
                    latitude=lat,
                    longitude=lon,
                    status=AlertStatus.NEW,
                    dedup_key=f"far:{index}",
                    first_at=T0,
                    last_at=T0 + timedelta(seconds=60),
                    details={},
                )
            )
        s.flush()

        def offline(name: str, point: tuple[float, float], seconds: float) -> Alert:
            alert, created = raise_alert(
                s,
                source=AlertSource.CAMERA_HEALTH,
                kind="offline",
                title=f"{name} offline",
                latitude=point[0],
                longitude=point[1],
                dedup_key=name,
                now=T0 + timedelta(seconds=seconds),
                grouping=GROUPING,
            )
            assert created
            return alert

        peer = offline("peer", centre, 100)
        near = offline("near", _offset(*centre, 140, 45), 120)  # diagonal: the box's corner
        beyond = offline("beyond", _offset(*centre, 170, 225), 130)

        assert near.group_id == peer.group_id == peer.id
        assert near.group_key == f"offline:{peer.id}"
        assert beyond.group_id is None
