"""GET /api/insights/kpis against a small city whose every figure was worked out by hand.

Two districts in Asia/Almaty (+5), a two-day period: 1 March 2026 00:00 to 3 March 00:00
local, which is 28 February 19:00 UTC (``T0``) to 2 March 19:00 UTC (48 hours, 172,800 s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safecity.analytics.counts import CountRow, add_counts
from safecity.analytics.objects import ObjectClass
from safecity.api.app import create_app
from safecity.auth.roles import Role, Scope
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import Camera, CameraStatus, District, OrganizationKind
from safecity.insights.kpis.store import KpiQuery, city_kpis
from safecity.insights.models import CrimeRecord
from safecity.ops.incidents.attachment_models import IncidentClip
from safecity.ops.models import Alert, AlertSource, Incident
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.models import (
    EvidenceExport,
    HoldKind,
    LegalHold,
    RecordedSegment,
    RecordingPurge,
)
from tests import factories as f

T0 = datetime(2026, 2, 28, 19, tzinfo=UTC)
SINCE = "2026-03-01T00:00:00+05:00"
UNTIL = "2026-03-03T00:00:00+05:00"
REGISTERED = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD = {"since": SINCE, "until": UNTIL}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Ids:
    west: int
    east: int


class Builder:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.segments = 0
        self.incidents = 0

    def camera(self, code: str, district: District, **fields: Any) -> Camera:
        return f.add_camera(self.s, code, district, created_at=REGISTERED, **fields)

    def segment(self, camera: Camera, start: float, end: float) -> None:
        self.segments += 1
        self.s.add(
            RecordedSegment(
                camera_id=camera.id,
                started_at=at(start),
                ended_at=at(end),
                path=f"recordings/{camera.code}/{self.segments}.mp4",
                bytes=1000,
                sha256="0" * 64,
                codec="avc1.64001f",
                time_scale=90000,
                init_bytes=100,
                packets=10,
                keyframes=[],
            )
        )

    def crime(self, district: District, occurred: datetime, kind: CrimeKind, solved: bool) -> None:
        self.s.add(
            CrimeRecord(
                code=f"CR-{occurred.isoformat()}-{kind}-{district.code}",
                occurred_at=occurred,
                kind=kind,
                place_kind=PlaceKind.STREET,
                district=district,
                solved=solved,
                solved_at=occurred + timedelta(days=40) if solved else None,
            )
        )

    def incident(
        self,
        district: District,
        opened: float,
        dispatch_after: float | None = None,
        accept_after: float | None = None,
    ) -> Incident:
        self.incidents += 1
        opened_at = at(opened)
        dispatched_at = (
            None if dispatch_after is None else opened_at + timedelta(seconds=dispatch_after)
        )
        incident = Incident(
            number=f"2026-{self.incidents:06d}",
            type_code="fight",
            priority=2,
            latitude=51.15,
            longitude=71.35,
            district_id=district.id,
            opened_by="operator",
            opened_at=opened_at,
            dispatched_at=dispatched_at,
            accepted_at=None
            if dispatched_at is None or accept_after is None
            else dispatched_at + timedelta(seconds=accept_after),
        )
        self.s.add(incident)
        self.s.flush()
        return incident

    def clip(self, incident: Incident, camera: Camera, *, unlinked: bool = False) -> None:
        hold = LegalHold(
            camera_id=camera.id,
            starts_at=incident.opened_at,
            ends_at=incident.opened_at + timedelta(minutes=5),
            kind=HoldKind.INCIDENT,
            reason="incident",
        )
        self.s.add(hold)
        self.s.flush()
        self.s.add(
            IncidentClip(
                incident_id=incident.id,
                camera_id=camera.id,
                starts_at=hold.starts_at,
                ends_at=hold.ends_at,
                hold_id=hold.id,
                linked_by="operator",
                unlinked_at=at(10_000) if unlinked else None,
            )
        )

    def export(self, camera: Camera, reason: str) -> None:
        self.segments += 1
        self.s.add(
            EvidenceExport(
                package_id=f"pkg-{self.segments}",
                camera_id=camera.id,
                starts_at=T0,
                ends_at=at(60),
                reason=reason,
                exported_by="operator",
                path=f"pkg-{self.segments}.zip",
                manifest_sha256="0" * 64,
                bytes=1,
            )
        )

    def alert(self, district: District, first: float, acknowledge_after: float | None) -> None:
        self.s.add(
            Alert(
                source=AlertSource.MANUAL,
                district_id=district.id,
                kind="fight",
                priority=2,
                title="Fight",
                dedup_key=f"manual:{first}:{district.code}",
                first_at=at(first),
                last_at=at(first),
                acknowledged_at=None
                if acknowledge_after is None
                else at(first + acknowledge_after),
            )
        )


def build(database: Database) -> Ids:
    with database.session() as s:
        b = Builder(s)
        west = f.add_district(s, "west", f.WEST)
        west.population = 50_000
        east = f.add_district(s, "east", f.EAST)
        akimat = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "akimat-west", Role.AKIMAT, akimat)

        w1 = b.camera("W1", west)
        b.camera("W2", west, installed_at=date(2026, 3, 2))  # expected from 2 March, local
        w3 = b.camera("W3", west, status=CameraStatus.MAINTENANCE)
        e1 = b.camera("E1", east)
        # W1: 1,000 s clipped at the start, 1,000 s more, a gap, 100 s two hours in.
        b.segment(w1, -5, 1000)
        b.segment(w1, 1000, 2000)
        b.segment(w1, 7200, 7300)
        b.segment(w1, 200_000, 200_010)  # after the period
        b.segment(w3, 0, 5000)  # not an active camera
        b.segment(e1, 100, 200)
        s.add(
            RecordingPurge(
                camera_id=w1.id,
                reason="age",
                segments=5,
                bytes=1,
                oldest_at=at(-86_400),
                newest_at=at(10),
            )
        )
        s.add(
            RecordingPurge(
                camera_id=w1.id,
                reason="age",
                segments=7,
                bytes=1,
                oldest_at=at(-90_000),
                newest_at=at(-86_400),
            )
        )

        b.crime(west, at(3600), CrimeKind.THEFT, solved=True)
        b.crime(west, at(7200), CrimeKind.THEFT, solved=False)
        b.crime(west, at(9000), CrimeKind.ASSAULT, solved=True)  # solved after the period
        b.crime(west, at(9500), CrimeKind.FRAUD, solved=False)
        b.crime(west, at(-60), CrimeKind.THEFT, solved=True)  # before the period
        b.crime(east, at(100), CrimeKind.THEFT, solved=True)

        i1 = b.incident(west, 60, dispatch_after=120, accept_after=300)
        b.clip(i1, w1)
        i2 = b.incident(west, 3600, dispatch_after=600)
        b.clip(i2, w1, unlinked=True)
        b.export(w1, f"Case {i2.number}, court request 77")
        b.incident(west, 7200)
        b.incident(east, 100, dispatch_after=60, accept_after=60)
        before = b.incident(west, -600, dispatch_after=1)
        b.clip(before, w1)

        b.alert(west, 10, 30)
        b.alert(west, 20, 90)
        b.alert(west, 30, None)
        b.alert(east, 5, 10)
        b.alert(west, -100, 1)

        ten = datetime(2026, 3, 1, 10, tzinfo=UTC)  # 15:00 in Almaty
        add_counts(
            s,
            [
                CountRow(w1.id, ten, ObjectClass.PERSON, 7),
                CountRow(w1.id, ten, ObjectClass.CAR, 3),
                CountRow(w1.id, ten, ObjectClass.BUS, 2),
                CountRow(w1.id, ten, ObjectClass.BICYCLE, 4),
                CountRow(w1.id, ten, ObjectClass.PERSON, 100, "line", "crossing", "forward"),
                CountRow(w3.id, ten, ObjectClass.PERSON, 1),
                CountRow(w1.id, T0 - timedelta(minutes=15), ObjectClass.PERSON, 50),
                CountRow(e1.id, datetime(2026, 3, 2, 3, 15, tzinfo=UTC), ObjectClass.PERSON, 5),
            ],
        )
        return Ids(west.id, east.id)


@pytest.fixture
def ids(database: Database) -> Ids:
    return build(database)


@pytest.fixture
def client(database: Database, ids: Ids, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, timezone="Asia/Almaty"), database)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def signed_in(client: TestClient) -> Callable[[str], TestClient]:
    def sign_in(username: str) -> TestClient:
        response = client.post(
            "/api/auth/login", json={"username": username, "password": f.PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client

    return sign_in


def kpis(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/insights/kpis", params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["district"]["name"]: row for row in rows}


def test_clearance_counts_crimes_registered_in_the_period_and_solved_by_now(
    signed_in: Callable[[str], TestClient],
) -> None:
    clearance = kpis(signed_in("analyst"))["clearance"]
    assert "solved by now" in clearance["definition"]
    assert clearance["total"] == {"registered": 5, "solved": 3, "rate": pytest.approx(0.6)}
    rows = by_name(clearance["by_district"])
    assert (rows["West"]["registered"], rows["West"]["solved"], rows["West"]["rate"]) == (4, 2, 0.5)
    assert (rows["East"]["registered"], rows["East"]["solved"], rows["East"]["rate"]) == (1, 1, 1.0)
    kinds = {row["kind"]: (row["registered"], row["solved"]) for row in clearance["by_kind"]}
    assert kinds == {"theft": (3, 2), "assault": (1, 1), "fraud": (1, 0)}
    assert [(p["period"], p["registered"], p["solved"]) for p in clearance["by_period"]] == [
        ("2026-03", 5, 3)
    ]


def test_video_use_counts_linked_clips_and_exports_naming_the_incident(
    signed_in: Callable[[str], TestClient],
) -> None:
    video = kpis(signed_in("analyst"))["video_use"]
    assert video["total"] == {
        "incidents": 4,
        "with_video": 2,
        "with_clips": 1,
        "with_exports": 1,
        "share": 0.5,
    }
    rows = by_name(video["by_district"])
    assert (rows["West"]["incidents"], rows["West"]["with_video"]) == (3, 2)
    assert (rows["East"]["incidents"], rows["East"]["with_video"], rows["East"]["share"]) == (
        1,
        0,
        0.0,
    )


def test_recording_completeness_and_uptime_from_segments_with_a_gap(
    signed_in: Callable[[str], TestClient],
) -> None:
    recording = kpis(signed_in("analyst"))["recording"]
    west = by_name(recording["by_district"])["West"]
    # W1 expected the whole 172,800 s (48 h), W2 from its installation day: 86,400 s (24 h).
    assert west["active_cameras"] == 2 and west["cameras_recorded"] == 1
    assert west["expected_seconds"] == pytest.approx(259_200)
    assert west["recorded_seconds"] == pytest.approx(2100, abs=0.01)
    assert west["completeness"] == pytest.approx(2100 / 259_200, rel=1e-6)
    assert (west["expected_hours"], west["hours_up"]) == (72, 2)
    assert west["uptime"] == pytest.approx(2 / 72)
    east = by_name(recording["by_district"])["East"]
    assert east["recorded_seconds"] == pytest.approx(100, abs=0.01)
    assert (east["expected_hours"], east["hours_up"]) == (48, 1)
    assert recording["total"]["recorded_seconds"] == pytest.approx(2200, abs=0.01)
    assert recording["purged_segments"] == 5


def test_operator_response_percentiles_with_pending_steps(
    signed_in: Callable[[str], TestClient],
) -> None:
    response = kpis(signed_in("analyst"))["response"]
    west = by_name(response["by_district"])["West"]
    assert west["acknowledge"] == {
        "count": 2,
        "pending": 1,
        "p50_seconds": 60.0,
        "p90_seconds": 84.0,
    }
    assert west["dispatch"] == {
        "count": 2,
        "pending": 1,
        "p50_seconds": 360.0,
        "p90_seconds": 552.0,
    }
    assert west["accept"] == {"count": 1, "pending": 1, "p50_seconds": 300.0, "p90_seconds": 300.0}
    total = response["total"]
    assert total["dispatch"]["count"] == 3
    assert total["dispatch"]["p50_seconds"] == pytest.approx(120.0)
    assert total["dispatch"]["p90_seconds"] == pytest.approx(504.0)
    assert total["acknowledge"]["count"] == 3 and total["acknowledge"]["pending"] == 1


def test_incidents_per_district_and_per_10000_residents(
    signed_in: Callable[[str], TestClient],
) -> None:
    incidents = kpis(signed_in("analyst"))["incidents"]
    assert incidents["total"] == 4
    rows = by_name(incidents["by_district"])
    assert (rows["West"]["incidents"], rows["West"]["per_10k"]) == (3, pytest.approx(0.6))
    assert (rows["East"]["incidents"], rows["East"]["per_10k"]) == (1, pytest.approx(0.1))


def test_flows_of_people_and_vehicles_by_the_citys_hour(
    signed_in: Callable[[str], TestClient],
) -> None:
    flows = kpis(signed_in("analyst"))["flows"]
    assert flows["present"] is True
    assert (flows["people"], flows["vehicles"]) == (13, 5)
    west = by_name(flows["by_district"])["West"]
    assert west["people"] == 8 and west["vehicles"] == 5
    assert west["people_by_hour"][15] == 8 and sum(west["people_by_hour"]) == 8
    assert west["vehicles_by_hour"][15] == 5
    assert by_name(flows["by_district"])["East"]["people_by_hour"][8] == 5


def test_flows_say_no_counts_when_there_are_none(signed_in: Callable[[str], TestClient]) -> None:
    flows = kpis(signed_in("analyst"), since="2025-01-01T00:00:00Z", until="2025-02-01T00:00:00Z")[
        "flows"
    ]
    assert flows["present"] is False and flows["people"] == 0


def test_an_akimat_sees_only_its_district(signed_in: Callable[[str], TestClient], ids: Ids) -> None:
    client = signed_in("akimat-west")
    body = kpis(client)
    for group in ("clearance", "video_use", "recording", "response", "incidents", "flows"):
        assert [row["district"]["name"] for row in body[group]["by_district"]] == ["West"], group
    assert body["clearance"]["total"]["registered"] == 4
    assert body["incidents"]["total"] == 3
    assert body["response"]["total"]["acknowledge"]["count"] == 2
    refused = client.get("/api/insights/kpis", params={**PERIOD, "district_id": ids.east})
    assert refused.status_code == 404


def test_one_district_asked_for(signed_in: Callable[[str], TestClient], ids: Ids) -> None:
    body = kpis(signed_in("analyst"), district_id=ids.east)
    assert body["district_id"] == ids.east
    assert body["clearance"]["total"]["registered"] == 1
    assert [row["district"]["name"] for row in body["recording"]["by_district"]] == ["East"]


def test_until_before_since_is_refused(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("analyst").get(
        "/api/insights/kpis", params={"since": UNTIL, "until": SINCE}
    )
    assert response.status_code == 422
    assert "until must come after since" in response.text


def test_a_time_without_zone_is_refused(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("analyst").get(
        "/api/insights/kpis", params={"since": "2026-03-01T00:00:00", "until": UNTIL}
    )
    assert response.status_code == 422


def test_an_operator_may_not_read_kpis(signed_in: Callable[[str], TestClient]) -> None:
    assert signed_in("operator").get("/api/insights/kpis", params=PERIOD).status_code == 403


def test_city_kpis_is_callable_without_http(database: Database, ids: Ids, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, timezone="Asia/Almaty")
    with database.session() as session:
        report = city_kpis(
            session,
            Scope(district_ids=frozenset({ids.west})),
            settings,
            KpiQuery(T0, T0 + timedelta(days=2)),
        )
    assert report.clearance.total.registered == 4
    assert report.video_use.total.with_video == 2
