"""Operator shifts through the API: starting, joining, leaving, ending with a handover that
carries the open alerts and incidents over, its acknowledgement, and who watched what (from
the audit log). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.api.app import create_app
from safecity.audit.log import record, verify
from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.auth.sessions import open_session
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.incidents import service as incidents
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import AlertSource, AlertStatus
from safecity.ops.shifts import service as shifts
from safecity.ops.shifts.models import Shift
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
EAST_POINT = {"latitude": 51.15, "longitude": 71.45}

Headers = Callable[[str], dict[str, str]]


@dataclass(frozen=True)
class Team:
    camera_id: int
    other_camera_id: int


@pytest.fixture
def team(database: Database) -> Team:
    """Two operators (anna, boris), an admin, a police duty officer, two cameras in East."""
    with database.session() as s:
        east = f.add_district(s, "east", f.EAST)
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        unit = PoliceUnit(code="u-east", name="East", organization=police, districts=[east])
        s.add(unit)
        camera = f.add_camera(s, "E-1", east)
        other = f.add_camera(s, "E-2", east)
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "anna", Role.OPERATOR)
        f.add_user(s, "boris", Role.OPERATOR)
        f.add_user(s, "officer", Role.POLICE_DUTY_OFFICER, police, police_unit=unit)
        return Team(camera.id, other.id)


@pytest.fixture
def client(database: Database, team: Team, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path), database)) as test_client:
        yield test_client


@pytest.fixture
def as_user(database: Database, team: Team) -> Headers:
    """Bearer headers for a user (a session opened directly: no slow password check)."""
    tokens: dict[str, str] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            with database.session() as s:
                tokens[username], _ = open_session(s, f.user_named(s, username), timedelta(hours=1))
        return {"Authorization": f"Bearer {tokens[username]}"}

    return headers


def _actions(database: Database, prefix: str) -> list[tuple[str, str, str | None]]:
    with database.session() as s:
        rows = s.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.target)
            .where(AuditEntry.action.like(f"{prefix}%"))
            .order_by(AuditEntry.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _start(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    response = client.post("/api/shifts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_an_operator_starts_a_shift_that_becomes_the_current_one(
    client: TestClient, as_user: Headers, database: Database
) -> None:
    assert client.get("/api/shifts/current", headers=as_user("anna")).json() is None

    shift = _start(client, as_user("anna"))

    assert shift["supervisor"] == "anna" and shift["ended_at"] is None
    assert [op["username"] for op in shift["operators"]] == ["anna"]  # type: ignore[attr-defined]
    assert shift["received_handover"] is None and shift["handover"] is None
    current = client.get("/api/shifts/current", headers=as_user("boris")).json()
    assert current["id"] == shift["id"]
    assert _actions(database, "shift.") == [("shift.start", "anna", f"shift:{shift['id']}")]


def test_starting_a_shift_while_one_is_on_is_refused(client: TestClient, as_user: Headers) -> None:
    first = _start(client, as_user("anna"))

    response = client.post("/api/shifts", json={}, headers=as_user("boris"))

    assert response.status_code == 409
    assert f"shift {first['id']}" in response.json()["detail"]
    assert "end it first" in response.json()["detail"]


def test_the_supervisor_may_be_named_and_must_be_an_operator_or_admin(
    client: TestClient, as_user: Headers, database: Database
) -> None:
    with database.session() as s:
        officer, boris = f.user_named(s, "officer").id, f.user_named(s, "boris").id

    refused = client.post("/api/shifts", json={"supervisor_id": officer}, headers=as_user("anna"))
    missing = client.post("/api/shifts", json={"supervisor_id": 999}, headers=as_user("anna"))
    shift = _start(client, as_user("anna"), supervisor_id=boris)

    assert refused.status_code == 422 and "cannot supervise" in refused.json()["detail"]
    assert missing.status_code == 422 and "no user 999" in missing.json()["detail"]
    assert (shift["supervisor"], shift["supervisor_id"], shift["started_by"]) == (
        "boris",
        boris,
        "anna",
    )


def test_operators_join_and_leave_and_may_come_back(client: TestClient, as_user: Headers) -> None:
    shift_id = _start(client, as_user("anna"))["id"]
    url = f"/api/shifts/{shift_id}"

    joined = client.post(f"{url}/join", headers=as_user("boris"))
    twice = client.post(f"{url}/join", headers=as_user("boris"))
    left = client.post(f"{url}/leave", headers=as_user("boris"))
    left_twice = client.post(f"{url}/leave", headers=as_user("boris"))
    back = client.post(f"{url}/join", headers=as_user("boris"))

    assert joined.status_code == 200
    assert [op["username"] for op in joined.json()["operators"]] == ["anna", "boris"]
    assert twice.status_code == 409 and "already on" in twice.json()["detail"]
    assert left.status_code == 200 and left.json()["operators"][1]["left_at"] is not None
    assert left_twice.status_code == 409 and "not on" in left_twice.json()["detail"]
    stretches = [(op["username"], op["left_at"] is None) for op in back.json()["operators"]]
    assert stretches == [("anna", True), ("boris", False), ("boris", True)]


def test_ending_a_shift_hands_over_what_is_still_open(
    client: TestClient, as_user: Headers, database: Database, team: Team
) -> None:
    with database.session() as s:
        anna = f.user_named(s, "anna")
        still_new, _ = raise_alert(
            s, source=AlertSource.MANUAL, kind="fight", title="Fight", camera_id=team.camera_id
        )
        dismissed, _ = raise_alert(
            s, source=AlertSource.MANUAL, kind="smoke", title="Smoke", camera_id=team.camera_id
        )
        dismissed.status = AlertStatus.DISMISSED
        open_one = incidents.open_incident(s, anna, type_code="theft", **EAST_POINT)
        done = incidents.open_incident(s, anna, type_code="fire", **EAST_POINT)
        done.status = IncidentStatus.RESOLVED
        expected_alert, expected_incident = still_new.id, open_one.number
    shift_id = _start(client, as_user("anna"))["id"]
    client.post(f"/api/shifts/{shift_id}/join", headers=as_user("boris"))

    not_supervisor = client.post(
        f"/api/shifts/{shift_id}/end", json={"note": "bye"}, headers=as_user("boris")
    )
    blank = client.post(
        f"/api/shifts/{shift_id}/end", json={"note": "   "}, headers=as_user("anna")
    )
    ended = client.post(
        f"/api/shifts/{shift_id}/end",
        json={"note": "Theft at E-1 waits for the unit"},
        headers=as_user("anna"),
    )
    twice = client.post(
        f"/api/shifts/{shift_id}/end", json={"note": "again"}, headers=as_user("anna")
    )

    assert not_supervisor.status_code == 403
    assert blank.status_code == 422
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert body["ended_at"] is not None
    assert all(op["left_at"] == body["ended_at"] for op in body["operators"])
    handover = body["handover"]
    assert handover["note"] == "Theft at E-1 waits for the unit"
    assert handover["written_by"] == "anna"
    assert [a["id"] for a in handover["open_alerts"]] == [expected_alert]
    assert [i["number"] for i in handover["open_incidents"]] == [expected_incident]
    assert handover["open_incidents"][0]["status"] == "new"
    assert (handover["open_alert_count"], handover["open_incident_count"]) == (1, 1)
    assert twice.status_code == 409 and "already ended" in twice.json()["detail"]
    assert client.get("/api/shifts/current", headers=as_user("anna")).json() is None


def test_a_handover_lists_the_most_urgent_first_and_counts_the_rest(
    client: TestClient,
    as_user: Headers,
    database: Database,
    team: Team,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review finding 9: a city with tens of thousands of open alerts still writes a small
    handover and audit row: counts, and the first ``HANDOVER_LIST`` of each by priority."""
    monkeypatch.setattr(shifts, "HANDOVER_LIST", 3)
    with database.session() as s:
        anna = f.user_named(s, "anna")
        alerts = [
            raise_alert(
                s,
                source=AlertSource.MANUAL,
                kind=f"kind-{index}",
                title="Open",
                camera_id=team.camera_id,
                priority=priority,
            )[0].id
            for index, priority in enumerate([4, 2, 3, 1, 2])
        ]
        numbers = [
            incidents.open_incident(
                s, anna, type_code="theft", priority=priority, **EAST_POINT
            ).number
            for priority in [3, 1, 4, 1]
        ]
    shift_id = _start(client, as_user("anna"))["id"]

    ended = client.post(
        f"/api/shifts/{shift_id}/end", json={"note": "Busy"}, headers=as_user("anna")
    )

    handover = ended.json()["handover"]
    assert (handover["open_alert_count"], handover["open_incident_count"]) == (5, 4)
    assert [a["id"] for a in handover["open_alerts"]] == [alerts[3], alerts[1], alerts[4]]
    assert [i["number"] for i in handover["open_incidents"]] == [numbers[1], numbers[3], numbers[0]]
    with database.session() as s:
        details = s.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "shift.end")
        ).one()
    assert details["open_alert_count"] == 5 and details["open_incident_count"] == 4
    assert details["open_alert_ids"] == [alerts[3], alerts[1], alerts[4]]
    assert len(details["open_incident_numbers"]) == 3


def test_an_admin_may_end_a_shift_someone_else_supervises(
    client: TestClient, as_user: Headers
) -> None:
    shift_id = _start(client, as_user("anna"))["id"]

    ended = client.post(
        f"/api/shifts/{shift_id}/end", json={"note": "Anna fell ill"}, headers=as_user("admin")
    )

    assert ended.status_code == 200 and ended.json()["handover"]["written_by"] == "admin"


def test_the_next_shift_takes_the_handover_and_its_supervisor_acknowledges_it(
    client: TestClient, as_user: Headers, database: Database
) -> None:
    first = _start(client, as_user("anna"))["id"]
    handover = client.post(
        f"/api/shifts/{first}/end", json={"note": "Quiet night"}, headers=as_user("anna")
    ).json()["handover"]
    ack_url = f"/api/handovers/{handover['id']}/acknowledge"

    too_early = client.post(ack_url, headers=as_user("boris"))
    second = _start(client, as_user("boris"))
    not_incoming = client.post(ack_url, headers=as_user("anna"))
    acknowledged = client.post(ack_url, headers=as_user("boris"))
    twice = client.post(ack_url, headers=as_user("boris"))

    assert too_early.status_code == 409 and "has not started" in too_early.json()["detail"]
    assert second["received_handover"]["id"] == handover["id"]  # type: ignore[index]
    assert second["received_handover"]["next_shift_id"] == second["id"]  # type: ignore[index]
    assert not_incoming.status_code == 403
    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged_by"] == "boris"
    assert twice.status_code == 409 and "acknowledged by boris" in twice.json()["detail"]
    detail = client.get(f"/api/shifts/{first}", headers=as_user("anna")).json()
    assert detail["handover"]["acknowledged_by"] == "boris"
    assert _actions(database, "handover.") == [
        ("handover.acknowledge", "boris", f"handover:{handover['id']}")
    ]


def _watched(session: Session, username: str, action: str, camera_id: int) -> None:
    user = f.user_named(session, username)
    record(
        session,
        action=action,
        actor=user.username,
        actor_id=user.id,
        target=f"camera:{camera_id}",
    )


def test_who_watched_what_is_read_from_the_audit_log_while_each_was_on_shift(
    client: TestClient, as_user: Headers, database: Database, team: Team
) -> None:
    with database.session() as s:
        _watched(s, "anna", "video.live", team.camera_id)  # before the shift
        shift = shifts.start_shift(s, f.user_named(s, "anna"))
    with database.session() as s:
        _watched(s, "anna", "video.live", team.camera_id)
        _watched(s, "anna", "video.live", team.camera_id)
        _watched(s, "anna", "video.playback", team.other_camera_id)
        _watched(s, "boris", "video.live", team.other_camera_id)  # not on the shift yet
        _watched(s, "admin", "video.live", team.camera_id)  # never on it
    with database.session() as s:
        shifts.join_shift(s, s.get_one(Shift, shift.id), f.user_named(s, "boris"))
    with database.session() as s:
        _watched(s, "boris", "video.clip", team.camera_id)
        _watched(s, "boris", "evidence.export", team.camera_id)  # not watching

    report = client.get(f"/api/shifts/{shift.id}", headers=as_user("anna")).json()["watched"]

    seen = [(w["username"], w["camera_code"], w["how"], w["times"]) for w in report]
    assert seen == [
        ("anna", "E-1", "live", 2),
        ("anna", "E-2", "playback", 1),
        ("boris", "E-1", "clip", 1),
    ]
    assert report[0]["first_at"] <= report[0]["last_at"]


def test_police_and_other_roles_may_not_use_shifts(client: TestClient, as_user: Headers) -> None:
    officer = as_user("officer")

    assert client.get("/api/shifts/current", headers=officer).status_code == 403
    assert client.post("/api/shifts", json={}, headers=officer).status_code == 403
    assert client.get("/api/shifts", headers=officer).status_code == 403
    assert client.get("/api/escalations", headers=officer).status_code == 403
    assert client.get("/api/shifts").status_code == 401


def test_an_unknown_shift_or_handover_answers_404(client: TestClient, as_user: Headers) -> None:
    anna = as_user("anna")

    assert client.get("/api/shifts/41", headers=anna).status_code == 404
    assert client.post("/api/shifts/41/join", headers=anna).status_code == 404
    assert client.post("/api/handovers/41/acknowledge", headers=anna).status_code == 404


def test_shift_history_is_paged_latest_first(
    client: TestClient, as_user: Headers, database: Database
) -> None:
    with database.session() as s:
        anna = f.user_named(s, "anna")
        for day in range(3):
            shift = shifts.start_shift(s, anna, now=T0 + timedelta(days=day))
            shifts.end_shift(s, shift, anna, "ok", now=T0 + timedelta(days=day, hours=8))
            s.flush()

    first = client.get("/api/shifts", params={"limit": 2}, headers=as_user("boris")).json()
    rest = client.get(
        "/api/shifts", params={"limit": 2, "before": first["next_before"]}, headers=as_user("boris")
    ).json()

    days = [s["started_at"][:10] for s in first["shifts"] + rest["shifts"]]
    assert days == ["2026-05-03", "2026-05-02", "2026-05-01"]
    assert first["next_before"] == first["shifts"][-1]["id"]
    assert rest["next_before"] is None


def test_every_shift_change_is_in_an_intact_audit_chain(
    client: TestClient, as_user: Headers, database: Database
) -> None:
    shift_id = _start(client, as_user("anna"))["id"]
    client.post(f"/api/shifts/{shift_id}/join", headers=as_user("boris"))
    client.post(f"/api/shifts/{shift_id}/leave", headers=as_user("boris"))
    client.post(f"/api/shifts/{shift_id}/end", json={"note": "done"}, headers=as_user("anna"))
    client.post(f"/api/shifts/{shift_id}/end", json={"note": "again"}, headers=as_user("anna"))

    target = f"shift:{shift_id}"
    assert _actions(database, "shift.") == [
        ("shift.start", "anna", target),
        ("shift.join", "boris", target),
        ("shift.leave", "boris", target),
        ("shift.end", "anna", target),
    ]
    assert verify(database).intact
