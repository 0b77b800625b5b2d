"""Forensic search of analytics events through the HTTP API: filters, pages, each event's
snapshot and recording, and scope (a caller sees the events of the cameras they may see, and
an event outside answers 404 exactly like a missing one)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from safecity.analytics.event_store import EventError, record_event
from safecity.analytics.models import AnalyticsEvent, AnalyticsRule
from safecity.analytics.objects import Box, ObjectClass
from safecity.api.paging import NEXT_CURSOR_HEADER
from safecity.store.engine import Database
from tests.analytics import stored_city
from tests.analytics.stored_city import T0, SignIn, add_event, media
from tests.api.conftest import City

client = stored_city.client
city = stored_city.city
signed_in = stored_city.signed_in

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"


def _ids(client: TestClient, **params: Any) -> list[int]:
    response = client.get("/api/analytics/events", params=params)
    assert response.status_code == 200, response.text
    return [event["id"] for event in response.json()]


@pytest.fixture
def events(database: Database, city: City) -> dict[str, int]:
    """One event on each camera, a minute apart, the newest last: a person at the pump
    station's gate (west), a car loitering on the west street, a tamper on the substation
    (east), a crowd on the east street."""
    return {
        "pump": add_event(database, city.water_camera_id, at=T0),
        "street-west": add_event(
            database,
            city.street_west_id,
            at=T0 + timedelta(minutes=1),
            kind="loitering",
            rule_name="Bench",
            object_class=ObjectClass.CAR,
        ),
        "substation": add_event(
            database,
            city.power_camera_id,
            at=T0 + timedelta(minutes=2),
            kind="tamper",
            rule_name="Tamper",
            object_class=None,
            track_id=None,
            boxes=[],
        ),
        "street-east": add_event(
            database, city.street_east_id, at=T0 + timedelta(minutes=3), kind="crowd"
        ),
    }


def test_search_finds_the_newest_first_and_narrows_by_each_filter(
    signed_in: SignIn, city: City, events: dict[str, int]
) -> None:
    client = signed_in("operator")
    e = events
    assert _ids(client) == [e["street-east"], e["substation"], e["street-west"], e["pump"]]
    since, until = T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)
    in_range = _ids(client, since=since.isoformat(), until=until.isoformat())
    assert in_range == [e["substation"], e["street-west"]]
    assert _ids(client, camera_id=city.water_camera_id) == [e["pump"]]
    assert _ids(client, district_id=city.east_id) == [e["street-east"], e["substation"]]
    assert _ids(client, kind=["tamper", "crowd"]) == [e["street-east"], e["substation"]]
    assert _ids(client, object_class="car") == [e["street-west"]]
    assert _ids(client, rule="Bench") == [e["street-west"]]
    assert _ids(client, kind="tamper", district_id=city.west_id) == []
    pump_site = client.get(f"/api/cameras/{city.water_camera_id}").json()["site"]["id"]
    assert _ids(client, site_id=pump_site) == [e["pump"]]


def test_an_event_says_what_was_seen_and_links_its_snapshot_and_recording(
    signed_in: SignIn, city: City, database: Database
) -> None:
    event_id = add_event(database, city.water_camera_id, snapshot="analytics/W-PUMP/1.jpg")

    event = signed_in("water").get(f"/api/analytics/events/{event_id}").json()

    assert event["camera_code"] == "W-PUMP" and event["district_id"] == city.west_id
    assert event["kind"] == "line_crossing" and event["rule_name"] == "Gate"
    assert event["object_class"] == "person" and event["track_id"] == 7
    assert event["boxes"] == [[10.0, 20.0, 50.0, 120.0]] and event["frame_size"] == [640, 360]
    assert event["snapshot_url"] == f"/api/analytics/events/{event_id}/snapshot"
    link = urlsplit(event["recording_url"])
    assert link.path == f"/api/cameras/{city.water_camera_id}/clip.mp4"
    assert parse_qs(link.query) == {
        "start": [(T0 - timedelta(seconds=10)).isoformat()],
        "end": [(T0 + timedelta(seconds=10)).isoformat()],
    }


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    signed_in: SignIn, city: City, database: Database
) -> None:
    stored = [
        add_event(database, city.street_west_id, at=T0 + timedelta(seconds=index // 2))
        for index in range(7)  # pairs at the same moment: the id breaks the tie
    ]
    client = signed_in("operator")
    seen: list[int] = []
    query = "?limit=3"
    while True:
        response = client.get(f"/api/analytics/events{query}")
        seen += [event["id"] for event in response.json()]
        cursor = response.headers.get(NEXT_CURSOR_HEADER)
        if cursor is None:
            break
        query = f"?limit=3&before={cursor}"

    assert seen == sorted(stored, reverse=True)
    bad = client.get("/api/analytics/events?before=bm90LWEtY3Vyc29y")
    assert bad.status_code == 422
    alert_cursor = "WzEsIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLDFd"  # [1, time, 1]: an alert's
    assert client.get(f"/api/analytics/events?before={alert_cursor}").status_code == 422


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("officer-east", {"substation", "street-east"}),
        ("akimat-west", {"pump", "street-west"}),
        ("water", {"pump"}),
        ("orphan-officer", set()),
        ("admin", {"pump", "street-west", "substation", "street-east"}),
    ],
)
def test_each_role_sees_only_the_events_of_the_cameras_it_may_see(
    signed_in: SignIn, city: City, events: dict[str, int], role: str, sees: set[str]
) -> None:
    client = signed_in(role)
    assert set(_ids(client)) == {events[name] for name in sees}
    for name, event_id in events.items():
        expected = 200 if name in sees else 404
        assert client.get(f"/api/analytics/events/{event_id}").status_code == expected


def test_filters_cannot_widen_the_scope_and_a_forged_id_looks_missing(
    signed_in: SignIn, city: City, events: dict[str, int]
) -> None:
    client = signed_in("officer-east")
    assert _ids(client, camera_id=city.water_camera_id) == []
    assert _ids(client, district_id=city.west_id) == []

    forbidden = client.get(f"/api/analytics/events/{events['pump']}")
    missing = client.get("/api/analytics/events/999999")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    snapshot = client.get(f"/api/analytics/events/{events['pump']}/snapshot")
    assert snapshot.status_code == 404 and snapshot.json() == missing.json()


def _store_snapshot(tmp_path: Path, relative: str) -> None:
    path = media(tmp_path) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(JPEG)


def test_a_snapshot_is_served_from_the_media_folder_to_those_who_may_see_pictures(
    signed_in: SignIn, city: City, database: Database, tmp_path: Path
) -> None:
    _store_snapshot(tmp_path, "analytics/W-PUMP/2026-05-01/210000-7.jpg")
    event_id = add_event(
        database, city.water_camera_id, snapshot="analytics/W-PUMP/2026-05-01/210000-7.jpg"
    )
    path = f"/api/analytics/events/{event_id}/snapshot"

    response = signed_in("water").get(path)

    assert response.status_code == 200
    assert response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    analyst = signed_in("analyst")
    assert analyst.get(path).status_code == 403  # figures, not pictures
    assert analyst.get(f"/api/analytics/events/{event_id}").json()["snapshot_url"] is None
    assert signed_in("officer-east").get(path).status_code == 404


def test_an_event_without_a_snapshot_or_whose_file_is_gone_answers_404(
    signed_in: SignIn, city: City, database: Database
) -> None:
    without = add_event(database, city.water_camera_id)
    gone = add_event(database, city.water_camera_id, snapshot="analytics/W-PUMP/gone.jpg")
    client = signed_in("operator")

    assert client.get(f"/api/analytics/events/{without}").json()["snapshot_url"] is None
    assert client.get(f"/api/analytics/events/{without}/snapshot").status_code == 404
    assert client.get(f"/api/analytics/events/{gone}/snapshot").status_code == 404


@pytest.mark.parametrize(
    "snapshot",
    ["../secret.jpg", "analytics/../../secret.jpg", "/etc/passwd", "analytics\\..\\x.jpg", ""],
)
def test_a_snapshot_path_that_leaves_the_media_folder_is_not_stored(
    database: Database, city: City, snapshot: str
) -> None:
    with pytest.raises(EventError, match="snapshot path"):
        add_event(database, city.water_camera_id, snapshot=snapshot)


@pytest.mark.parametrize("forged", ["../secret.jpg", "link/secret.jpg", "/SECRET"])
def test_a_stored_path_that_leads_out_of_the_media_folder_is_refused(
    signed_in: SignIn, city: City, database: Database, tmp_path: Path, forged: str
) -> None:
    """A row written by something other than record_event (an old version, a hand edit): the
    file outside the media folder is never served, through ``..``, a link or an absolute
    path."""
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(JPEG)
    media(tmp_path).mkdir(exist_ok=True)
    (media(tmp_path) / "link").symlink_to(tmp_path, target_is_directory=True)
    event_id = add_event(database, city.water_camera_id, snapshot="analytics/x.jpg")
    path = forged.replace("/SECRET", str(secret))
    with database.session() as session:
        session.execute(
            update(AnalyticsEvent).where(AnalyticsEvent.id == event_id).values(snapshot=path)
        )

    response = signed_in("admin").get(f"/api/analytics/events/{event_id}/snapshot")

    assert response.status_code == 404
    assert response.content != JPEG


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": "fight"}, "unknown kind 'fight'"),
        ({"clip_end": T0 - timedelta(minutes=1)}, "the clip ends before it starts"),
        ({"started_at": T0 + timedelta(seconds=1)}, "started_at comes after at"),
        ({"confidence": 1.5}, "confidence is 0 to 1"),
        ({"frame_size": (0, 360)}, "frame_size"),
        ({"details": {"x": float("nan")}}, "details: numbers must be finite"),
    ],
)
def test_an_event_that_makes_no_sense_is_refused(
    database: Database, city: City, fields: dict[str, Any], words: str
) -> None:
    with pytest.raises(EventError, match=words):
        add_event(database, city.water_camera_id, **fields)


def test_an_event_of_an_unknown_camera_is_refused(database: Database, city: City) -> None:
    with database.session() as session, pytest.raises(EventError, match="no camera 999999"):
        record_event(
            session,
            camera_id=999_999,
            at=T0,
            started_at=T0,
            rule_name="Tamper",
            kind="tamper",
            confidence=1.0,
            boxes=[Box(0, 0, 1, 1)],
            frame_size=(640, 360),
            clip_start=T0,
            clip_end=T0,
        )


def test_search_refuses_a_range_that_ends_before_it_starts(signed_in: SignIn) -> None:
    response = signed_in("operator").get(
        "/api/analytics/events",
        params={"since": T0.isoformat(), "until": (T0 - timedelta(hours=1)).isoformat()},
    )
    assert response.status_code == 422


def test_search_by_rule_id_or_by_rule_name(
    signed_in: SignIn, city: City, database: Database, events: dict[str, int]
) -> None:
    admin = signed_in("admin")
    path = f"/api/cameras/{city.water_camera_id}/analytics/rules"
    admin.put(path, json={"rules": [{"kind": "tamper", "name": "Tamper"}], "masks": []})
    with database.session() as session:
        rule_id = session.scalars(select(AnalyticsRule.id)).one()
    ruled = add_event(database, city.water_camera_id, rule_id=rule_id, rule_name="Tamper")

    assert _ids(admin, rule_id=rule_id) == [ruled]
    assert _ids(admin, rule="Tamper") == [events["substation"], ruled]  # newest first
