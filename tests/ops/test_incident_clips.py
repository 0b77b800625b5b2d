"""Clips linked to incidents, on SQLite and PostgreSQL: a link holds its recordings against
retention until it is unlinked; the list says where each clip plays and what is missing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.city.models import Camera
from safecity.settings import VideoSettings
from safecity.store.engine import Database
from safecity.video.models import HoldKind, LegalHold, RecordedSegment
from safecity.video.recording.retention_keeper import RetentionKeeper
from tests.api.conftest import City
from tests.audit.entries import audit_entries
from tests.ops import incident_materials as materials
from tests.ops.incident_materials import SignIn, close, open_incident

client = materials.client
city = materials.city
signed_in = materials.signed_in

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
T0 = NOW - timedelta(days=40)  # older than the 30 days retention keeps
SEGMENT = timedelta(seconds=10)


def record(
    database: Database, media: Path, camera_id: int, first: datetime, count: int
) -> list[str]:
    """``count`` back-to-back 10 s segments from ``first``, as files and index rows."""
    with database.session() as session:
        code = session.get_one(Camera, camera_id).code
        paths = []
        for index in range(count):
            started = first + SEGMENT * index
            path = f"recordings/{code}/{started:%Y-%m-%d}/{started:%H%M%S}-000.mp4"
            (media / path).parent.mkdir(parents=True, exist_ok=True)
            (media / path).write_bytes(b"\0" * 1000)
            session.add(
                RecordedSegment(
                    camera_id=camera_id,
                    started_at=started,
                    ended_at=started + SEGMENT,
                    path=path,
                    bytes=1000,
                    sha256="0" * 64,
                    codec="avc1.64001f",
                    time_scale=90000,
                    init_bytes=100,
                    packets=250,
                    keyframes=[[0, 100]],
                )
            )
            paths.append(path)
    return paths


def indexed(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.scalars(select(RecordedSegment.path)))


def run_retention(database: Database, media: Path) -> None:
    keeper = RetentionKeeper(
        database,
        media,
        VideoSettings(retention_days=30, retention_clock_jump_hours=24 * 365),
        shutil.disk_usage,
    )
    keeper.run_once(NOW)


def link(client: TestClient, incident_id: int, camera_id: int, **fields: Any) -> Any:
    body = {
        "camera_id": camera_id,
        "start": (T0 + timedelta(seconds=12)).isoformat(),
        "end": (T0 + timedelta(seconds=18)).isoformat(),
        **fields,
    }
    return client.post(f"/api/incidents/{incident_id}/clips", json=body)


def hold_of(database: Database, hold_id: int) -> LegalHold:
    with database.session() as session:
        return session.get_one(LegalHold, hold_id)


def test_a_linked_clip_is_held_against_retention_until_unlinked(
    client: TestClient, city: City, database: Database, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    paths = record(database, media, city.street_east_id, T0, 3)
    incident = open_incident(client, city.street_east_id)

    linked = link(client, incident["id"], city.street_east_id, note="the snatch, from the east")

    assert linked.status_code == 201, linked.text
    clip = linked.json()
    assert clip["camera_code"] == "E-STREET" and clip["linked"] and clip["linked_by"] == "operator"
    hold = hold_of(database, clip["hold_id"])
    assert hold.kind is HoldKind.INCIDENT and hold.released_at is None
    assert (hold.reason, hold.reference) == (f"incident {incident['number']}", incident["number"])
    assert (hold.starts_at, hold.ends_at) == (
        T0 + timedelta(seconds=12),
        T0 + timedelta(seconds=18),
    )
    run_retention(database, media)
    assert indexed(database) == {paths[1]}  # the held middle segment outlives its age

    unlinked = client.delete(
        f"/api/incidents/{incident['id']}/clips/{clip['id']}",
        params={"reason": "wrong camera: the snatch is on W-STREET"},
    )

    assert unlinked.status_code == 200, unlinked.text
    body = unlinked.json()
    assert not body["linked"] and body["unlinked_by"] == "operator"
    assert body["unlink_reason"] == "wrong camera: the snatch is on W-STREET"
    assert hold_of(database, clip["hold_id"]).released_at is not None
    run_retention(database, media)
    assert indexed(database) == set()
    listed = client.get(f"/api/incidents/{incident['id']}/clips").json()
    assert [(item["id"], item["linked"]) for item in listed] == [(clip["id"], False)]
    assert [e.target for e in audit_entries(database, "hold.place")] == [f"hold:{hold.id}"]
    assert [e.target for e in audit_entries(database, "hold.release")] == [f"hold:{hold.id}"]
    (linked_entry,) = audit_entries(database, "incident.clip.link")
    (unlinked_entry,) = audit_entries(database, "incident.clip.unlink")
    assert linked_entry.target == unlinked_entry.target == f"incident:{incident['number']}"
    assert unlinked_entry.details["hold_released"] is True
    events = client.get(f"/api/incidents/{incident['id']}").json()["events"]
    assert [(e["kind"], e["details"].get("change")) for e in events if e["kind"] == "evidence"] == [
        ("evidence", "clip_linked"),
        ("evidence", "clip_unlinked"),
    ]


def test_the_list_gives_the_playback_link_and_what_is_not_recorded(
    client: TestClient, city: City, database: Database, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    record(database, media, city.street_east_id, T0, 1)
    record(database, media, city.street_east_id, T0 + 2 * SEGMENT, 1)  # a 10 s hole between
    incident = open_incident(client, city.street_east_id)
    start, end = T0 + timedelta(seconds=2), T0 + timedelta(seconds=8)
    whole = link(
        client, incident["id"], city.street_east_id, start=start.isoformat(), end=end.isoformat()
    ).json()
    ragged = link(
        client,
        incident["id"],
        city.street_east_id,
        start=(T0 - SEGMENT).isoformat(),
        end=(T0 + 4 * SEGMENT).isoformat(),
    ).json()

    listed = {
        item["id"]: item for item in client.get(f"/api/incidents/{incident['id']}/clips").json()
    }

    assert listed[whole["id"]]["recorded"] is True and listed[whole["id"]]["gaps"] == []
    gaps = [(gap["start"], gap["end"]) for gap in listed[ragged["id"]]["gaps"]]
    stamp = "{:%Y-%m-%dT%H:%M:%SZ}".format
    assert listed[ragged["id"]]["recorded"] is False
    assert gaps == [
        (stamp(T0 - SEGMENT), stamp(T0)),
        (stamp(T0 + SEGMENT), stamp(T0 + 2 * SEGMENT)),
        (stamp(T0 + 3 * SEGMENT), stamp(T0 + 4 * SEGMENT)),
    ]
    url = urlsplit(listed[whole["id"]]["playback_url"])
    assert url.path == f"/api/cameras/{city.street_east_id}/clip.mp4"
    query = {name: datetime.fromisoformat(value) for name, (value,) in parse_qs(url.query).items()}
    assert query == {"start": start, "end": end}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (T0, T0 + timedelta(hours=25), "a clip can cover at most 1 day"),
        (T0, T0 - SEGMENT, "the end of the range must come after its start"),
    ],
    ids=["too-long", "backwards"],
)
def test_a_range_a_clip_cannot_have_is_refused(
    client: TestClient, city: City, database: Database, start: datetime, end: datetime, message: str
) -> None:
    incident = open_incident(client, city.street_east_id)

    response = link(
        client, incident["id"], city.street_east_id, start=start.isoformat(), end=end.isoformat()
    )

    assert response.status_code == 422
    assert message in response.json()["detail"]
    with database.session() as session:
        assert session.scalars(select(LegalHold)).all() == []


def test_who_may_link_and_unlink(signed_in: SignIn, city: City, database: Database) -> None:
    incident = open_incident(signed_in("operator"), city.street_east_id)
    clips = f"/api/incidents/{incident['id']}/clips"
    officer = signed_in("officer-east")

    # The assigned unit's officer links a clip of a camera in the unit's districts, not beyond.
    assert link(officer, incident["id"], city.street_west_id).status_code == 404
    linked = link(officer, incident["id"], city.street_east_id)
    assert linked.status_code == 201, linked.text
    clip_url = f"{clips}/{linked.json()['id']}"
    assert link(officer, incident["id"], city.street_east_id).status_code == 409  # once
    assert link(signed_in("officer-west"), incident["id"], city.street_east_id).status_code == 404
    assert signed_in("officer-west").get(clips).status_code == 404
    assert link(signed_in("akimat-west"), incident["id"], city.street_east_id).status_code == 403
    # Unlinking releases a hold: the city-wide roles that answer for the archive only.
    assert signed_in("officer-east").delete(clip_url, params={"reason": "x"}).status_code == 403
    assert signed_in("operator").delete(clip_url).status_code == 422  # a reason is required
    assert hold_of(database, linked.json()["hold_id"]).released_at is None


def test_closing_keeps_the_holds_and_the_links(
    signed_in: SignIn, city: City, database: Database
) -> None:
    incident = open_incident(signed_in("operator"), city.street_east_id)
    clip = link(signed_in("operator"), incident["id"], city.street_east_id).json()
    close(signed_in, incident["id"], "officer-east")

    refused = signed_in("admin").delete(
        f"/api/incidents/{incident['id']}/clips/{clip['id']}", params={"reason": "case over"}
    )

    assert refused.status_code == 409
    assert "releases their holds through the holds API" in refused.json()["detail"]
    assert hold_of(database, clip["hold_id"]).released_at is None
    assert signed_in("operator").get(f"/api/incidents/{incident['id']}/clips").json()[0]["linked"]


def test_the_hold_of_a_clip_an_open_incident_links_is_not_released_by_hand(
    signed_in: SignIn, city: City, database: Database
) -> None:
    incident = open_incident(signed_in("operator"), city.street_east_id)
    clip = link(signed_in("operator"), incident["id"], city.street_east_id).json()
    admin = signed_in("admin")
    release = f"/api/holds/{clip['hold_id']}/release"

    refused = admin.post(release, json={"reason": "looks unused"})

    assert refused.status_code == 409, refused.text
    assert f"incident {incident['number']} links the clip" in refused.json()["detail"]
    assert hold_of(database, clip["hold_id"]).released_at is None
    assert audit_entries(database, "hold.release") == []
    # Once the incident is closed the case may still need the footage, and when it ends an
    # administrator releases the hold here, saying why.
    close(signed_in, incident["id"], "officer-east")
    released = signed_in("admin").post(release, json={"reason": "case 2026/77 closed"})
    assert released.status_code == 200, released.text
    assert released.json()["release_reason"] == "case 2026/77 closed"
    (entry,) = audit_entries(database, "hold.release")
    assert entry.details["reason"] == "case 2026/77 closed"
