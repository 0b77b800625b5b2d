"""Routing, alert de-duplication and the incident lifecycle against a real database (SQLite
and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from safecity.audit.log import verify
from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.ops.alerts.intake import acknowledge, raise_alert
from safecity.ops.dispatch.routing import NoUnit, route
from safecity.ops.incidents import service as incidents
from safecity.ops.incidents.lifecycle import Forbidden, IncidentStatus, NotAllowed
from safecity.ops.models import Alert, AlertSource, AlertStatus, IncidentEvent, IncidentEventKind
from safecity.store.engine import Database
from tests import factories as f

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
EAST_POINT = (51.15, 71.45)  # lat, lon
WEST_POINT = (51.15, 71.35)
OUTSIDE = (40.0, 10.0)


@dataclass(frozen=True)
class Ids:
    west: int
    east: int
    unit_east: int
    camera_east: int


@pytest.fixture
def ids(database: Database) -> Ids:
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        east = f.add_district(s, "east", f.EAST)
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        unit = PoliceUnit(code="u-east", name="East", organization=police, districts=[east])
        s.add(unit)
        camera = f.add_camera(s, "E-1", east)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "officer", Role.POLICE_DUTY_OFFICER, police, police_unit=unit)
        f.add_user(s, "stranger", Role.POLICE_DUTY_OFFICER, police)
        s.flush()
        return Ids(west.id, east.id, unit.id, camera.id)


def test_route_by_district_then_fallback(database: Database, ids: Ids) -> None:
    with database.session() as s:
        found = route(s, *EAST_POINT)
        assert (found.police_unit_id, found.district_id, found.fallback) == (
            ids.unit_east,
            ids.east,
            False,
        )
        with pytest.raises(NoUnit, match="fallback"):
            route(s, *WEST_POINT)
        police = f.add_organization(s, "police-2", OrganizationKind.POLICE)
        fallback = PoliceUnit(code="u-city", name="City", organization=police, is_fallback=True)
        s.add(fallback)
        s.flush()
        assert route(s, *WEST_POINT).police_unit_id == fallback.id
        assert route(s, *WEST_POINT).fallback
        assert route(s, *OUTSIDE).police_unit_id == fallback.id
        assert route(s, *EAST_POINT).police_unit_id == ids.unit_east


def test_a_burst_from_one_camera_is_one_alert(database: Database, ids: Ids) -> None:
    with database.session() as s:
        first, created = raise_alert(
            s,
            source=AlertSource.CAMERA_HEALTH,
            kind="tamper",
            title="Tamper",
            camera_id=ids.camera_east,
            now=T0,
        )
        assert created and first.district_id == ids.east and first.priority == 2
        for seconds in (10, 40, 90):  # each within 60 s of the previous last_at
            again, created = raise_alert(
                s,
                source=AlertSource.CAMERA_HEALTH,
                kind="tamper",
                title="Tamper",
                camera_id=ids.camera_east,
                now=T0 + timedelta(seconds=seconds),
            )
            assert not created and again.id == first.id
        assert first.count == 4 and first.last_at == T0 + timedelta(seconds=90)
        other, created = raise_alert(
            s,
            source=AlertSource.CAMERA_HEALTH,
            kind="offline",
            title="Offline",
            camera_id=ids.camera_east,
            now=T0 + timedelta(seconds=91),
        )
        assert created and other.id != first.id
        late, created = raise_alert(
            s,
            source=AlertSource.CAMERA_HEALTH,
            kind="tamper",
            title="Tamper",
            camera_id=ids.camera_east,
            now=T0 + timedelta(seconds=151),
        )
        assert created and late.id != first.id
        assert acknowledge(s, late, f.user_named(s, "operator"), now=T0 + timedelta(seconds=152))
        assert not acknowledge(s, late, f.user_named(s, "operator"))
        folded, created = raise_alert(
            s,
            source=AlertSource.CAMERA_HEALTH,
            kind="tamper",
            title="Tamper",
            camera_id=ids.camera_east,
            now=T0 + timedelta(seconds=160),
        )
        assert not created and folded.id == late.id  # acknowledged alerts still fold repeats
        late.status = AlertStatus.DISMISSED
        s.flush()
        _, created = raise_alert(
            s,
            source=AlertSource.CAMERA_HEALTH,
            kind="tamper",
            title="Tamper",
            camera_id=ids.camera_east,
            now=T0 + timedelta(seconds=165),
        )
        assert created  # a dismissed alert does not swallow the next one


def test_the_lifecycle_from_alert_to_close(database: Database, ids: Ids) -> None:
    with database.session() as s:
        operator, officer = f.user_named(s, "operator"), f.user_named(s, "officer")
        alert, _ = raise_alert(
            s,
            source=AlertSource.ANALYTICS,
            kind="fight",
            title="Fight",
            camera_id=ids.camera_east,
            now=T0,
        )
        incident = incidents.open_incident(
            s, operator, type_code="assault", alert_ids=[alert.id], now=T0 + timedelta(seconds=30)
        )
        assert incident.number == "2026-000001"
        assert incident.district_id == ids.east and incident.priority == 1
        assert [c.id for c in incident.cameras] == [ids.camera_east]
        assert alert.status is AlertStatus.IN_INCIDENT and alert.incident_id == incident.id
        assert alert.acknowledged_at == T0 + timedelta(seconds=30)

        with pytest.raises(Forbidden):
            incidents.transition(s, incident, officer, IncidentStatus.DISPATCHED)
        incidents.transition(
            s, incident, operator, IncidentStatus.DISPATCHED, now=T0 + timedelta(minutes=1)
        )
        assert incident.police_unit_id == ids.unit_east
        with pytest.raises(Forbidden):
            incidents.transition(s, incident, f.user_named(s, "stranger"), IncidentStatus.ACCEPTED)
        incidents.transition(
            s, incident, officer, IncidentStatus.NEW, reason="no car", now=T0 + timedelta(minutes=2)
        )
        assert incident.police_unit_id is None and incident.status is IncidentStatus.NEW
        incidents.transition(
            s, incident, operator, IncidentStatus.DISPATCHED, now=T0 + timedelta(minutes=3)
        )
        for minutes, target in [
            (4, IncidentStatus.ACCEPTED),
            (9, IncidentStatus.ON_SCENE),
            (30, IncidentStatus.RESOLVED),
        ]:
            incidents.transition(s, incident, officer, target, now=T0 + timedelta(minutes=minutes))
        with pytest.raises(NotAllowed):
            incidents.transition(s, incident, operator, IncidentStatus.ON_SCENE)
        incidents.transition(
            s, incident, operator, IncidentStatus.CLOSED, now=T0 + timedelta(minutes=31)
        )
        incidents.add_note(s, incident, officer, "suspect detained")
        incidents.mark_step(s, incident, operator, 0, incidents.StepState.DONE)
        with pytest.raises(incidents.IncidentError, match="reason"):
            incidents.mark_step(s, incident, operator, 1, incidents.StepState.SKIPPED)
        incidents.mark_step(
            s, incident, operator, 1, incidents.StepState.SKIPPED, reason="nobody hurt"
        )
        incident_id = incident.id
        assert incident.dispatched_at == T0 + timedelta(minutes=1)
        assert incident.accepted_at == T0 + timedelta(minutes=4)
        assert incident.closed_at == T0 + timedelta(minutes=31)

    with database.session() as s:
        events = list(
            s.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id)
                .order_by(IncidentEvent.id)
            )
        )
        transitions = [
            (e.from_status, e.to_status) for e in events if e.kind is IncidentEventKind.TRANSITION
        ]
        assert transitions[0] == (None, IncidentStatus.NEW)
        assert transitions[-1] == (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
        assert len(transitions) == 8
        assert [e.text for e in events if e.to_status is IncidentStatus.NEW][1] == "no car"
        state = incidents.sop_state(s.get_one(incidents.Incident, incident_id), events)
        assert [step.state for step in state[:3]] == ["done", "skipped", "pending"]
        assert state[1].reason == "nobody hurt"
        rows = s.execute(select(AuditEntry.action, func.count()).group_by(AuditEntry.action))
        actions = {action: count for action, count in rows}
        assert actions == {
            "alert.raise": 1,
            "incident.open": 1,
            "incident.transition": 7,
            "incident.note": 1,
            "incident.sop_step": 2,
        }
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
    assert verify(database).intact


def test_an_incident_by_hand_at_a_map_point(database: Database, ids: Ids) -> None:
    with database.session() as s:
        operator = f.user_named(s, "operator")
        first = incidents.open_incident(
            s, operator, type_code="fire", latitude=WEST_POINT[0], longitude=WEST_POINT[1], now=T0
        )
        second = incidents.open_incident(
            s, operator, type_code="theft", latitude=EAST_POINT[0], longitude=EAST_POINT[1], now=T0
        )
        assert (first.number, second.number) == ("2026-000001", "2026-000002")
        assert first.district_id == ids.west and first.priority == 1
        with pytest.raises(NoUnit):
            incidents.transition(s, first, operator, IncidentStatus.DISPATCHED)
        with pytest.raises(incidents.IncidentError, match="location"):
            incidents.open_incident(s, operator, type_code="theft")


def test_operators_opening_incidents_at_once_get_distinct_numbers(
    database: Database, ids: Ids
) -> None:
    def open_one(_: int) -> str:
        with database.session() as s:
            operator = f.user_named(s, "operator")
            incident = incidents.open_incident(
                s, operator, type_code="theft", latitude=EAST_POINT[0], longitude=EAST_POINT[1]
            )
            return incident.number

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(open_one, range(12)))
    assert len(set(numbers)) == 12, "no two incidents share a number, none failed"
