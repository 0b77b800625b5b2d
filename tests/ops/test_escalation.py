"""SLA escalation: which clocks are overdue (pure, fixed clock), and the escalator writing and
publishing each breach once, against SQLite and PostgreSQL; the escalations API."""

from __future__ import annotations

import queue
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safecity.api.app import create_app
from safecity.audit.log import verify
from safecity.audit.models import AuditEntry
from safecity.auth.sessions import open_session
from safecity.bus import InProcessBus, Message
from safecity.ops.alerts.intake import acknowledge, raise_alert
from safecity.ops.incidents import service as incidents
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import (
    AlertSource,
    AlertStatus,
    Incident,
    IncidentEvent,
    IncidentEventKind,
)
from safecity.ops.shifts import service as shifts
from safecity.ops.shifts.escalation import (
    CHUNK,
    FEED_TOPIC,
    Clock,
    SlaEscalator,
    alert_clock,
    describe,
    incident_clock,
    overdue,
    stage_limit,
)
from safecity.ops.shifts.models import Escalation, SlaStage
from safecity.settings import Settings, SlaSettings, SlaThresholds
from safecity.store.engine import Database
from tests import factories as f

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SLA = SlaSettings()
EAST_POINT = {"latitude": 51.15, "longitude": 71.45}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------------------
# Which clocks are overdue


def test_a_new_alert_is_overdue_only_after_its_acknowledge_limit() -> None:
    clock = alert_clock(7, AlertStatus.NEW, priority=1, first_at=T0)
    assert clock is not None

    assert overdue([clock], SLA, at(60)) == []
    [breach] = overdue([clock], SLA, at(61))

    assert breach.clock == clock
    assert breach.limit == timedelta(seconds=60)
    assert breach.overdue == timedelta(seconds=1)
    assert breach.due_at == at(60)


def test_a_seen_alert_has_no_clock_running() -> None:
    for status in (AlertStatus.ACKNOWLEDGED, AlertStatus.DISMISSED, AlertStatus.IN_INCIDENT):
        assert alert_clock(7, status, priority=1, first_at=T0) is None


def test_limits_depend_on_priority() -> None:
    urgent = Clock(SlaStage.ACKNOWLEDGE, 1, T0, alert_id=1)
    routine = Clock(SlaStage.ACKNOWLEDGE, 4, T0, alert_id=2)

    assert [b.clock for b in overdue([urgent, routine], SLA, at(5 * 60))] == [urgent]
    assert len(overdue([urgent, routine], SLA, at(15 * 60 + 1))) == 2
    assert stage_limit(SLA, SlaStage.ARRIVE, 1) == timedelta(minutes=10)
    assert stage_limit(SLA, SlaStage.ARRIVE, 9) == stage_limit(SLA, SlaStage.ARRIVE, 4)


def test_an_incident_runs_the_clock_of_the_stage_it_waits_at() -> None:
    def clock(status: IncidentStatus) -> tuple[SlaStage, datetime, int | None] | None:
        found = incident_clock(3, status, 2, at(100), event_id=9)
        return (found.stage, found.started_at, found.event_id) if found else None

    assert clock(IncidentStatus.NEW) == (SlaStage.DISPATCH, at(100), 9)
    assert clock(IncidentStatus.DISPATCHED) == (SlaStage.ACCEPT, at(100), 9)
    assert clock(IncidentStatus.ACCEPTED) == (SlaStage.ARRIVE, at(100), 9)
    for done in (IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
        assert clock(done) is None


def test_a_breach_already_escalated_is_not_overdue_again() -> None:
    clock = Clock(SlaStage.DISPATCH, 2, T0, incident_id=5, event_id=11)

    assert overdue([clock], SLA, at(3600), escalated={("incident", 5, SlaStage.DISPATCH, 11)}) == []
    assert overdue([clock], SLA, at(3600), escalated={("alert", 5, SlaStage.DISPATCH, None)}) != []


def test_a_new_clock_of_the_same_stage_is_a_new_breach() -> None:
    """After a rejection and a re-dispatch the accept clock is another one (another event)."""
    second = Clock(SlaStage.ACCEPT, 2, T0, incident_id=5, event_id=12)

    assert overdue([second], SLA, at(3600), escalated={("incident", 5, SlaStage.ACCEPT, 11)})


def test_the_most_overdue_comes_first() -> None:
    late = Clock(SlaStage.ACKNOWLEDGE, 1, at(0), alert_id=1)
    later = Clock(SlaStage.ACKNOWLEDGE, 1, at(-100), alert_id=2)

    assert [b.clock for b in overdue([late, later], SLA, at(90))] == [later, late]


def test_limits_come_from_the_settings() -> None:
    strict = SlaSettings(dispatch=SlaThresholds(p1=10, p2=20, p3=30, p4=40))
    clock = Clock(SlaStage.DISPATCH, 3, T0, incident_id=1)

    assert overdue([clock], SLA, at(31)) == []
    assert overdue([clock], strict, at(31))[0].limit == timedelta(seconds=30)


def test_the_escalation_reads_as_a_sentence() -> None:
    [breach] = overdue([Clock(SlaStage.DISPATCH, 2, T0, incident_id=1)], SLA, at(400))

    assert describe(breach, "anna") == (
        "Not dispatched within 5 min (priority 2): escalated to supervisor anna"
    )
    assert describe(breach, None).endswith("no shift on, nobody to escalate to")


# ---------------------------------------------------------------------------------------------
# The escalator against a database


class Published:
    """What the escalator put on the bus."""

    def __init__(self, bus: InProcessBus) -> None:
        self._messages: queue.Queue[Message] = queue.Queue()
        bus.subscribe(FEED_TOPIC, self._messages.put)

    def next(self) -> Message:
        return self._messages.get(timeout=5)


@pytest.fixture
def bus() -> Iterator[InProcessBus]:
    bus = InProcessBus()
    yield bus
    bus.close()


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_an_undispatched_incident_escalates_once_to_the_supervisor_on_shift(
    database: Database, city: f.EastCity, bus: InProcessBus
) -> None:
    published = Published(bus)
    clock = FixedClock(at(0))
    escalator = SlaEscalator(SLA, database, bus, clock=clock)
    with database.session() as s:
        anna = f.user_named(s, "anna")
        shift = shifts.start_shift(s, anna, now=at(-3600))
        incident = incidents.open_incident(
            s, anna, type_code="theft", priority=2, now=at(0), **EAST_POINT
        )

    clock.now = at(300)
    assert escalator.check() == []
    clock.now = at(301)
    [payload] = escalator.check()
    clock.now = at(900)
    assert escalator.check() == []

    assert payload == {
        "id": payload["id"],
        "stage": "dispatch",
        "alert_id": None,
        "incident_id": incident.id,
        "number": incident.number,
        "priority": 2,
        "overdue_seconds": 1.0,
        "threshold_seconds": 300.0,
        "supervisor_id": anna.id,
        "district_id": city.district_id,
        "police_unit_id": None,
        "at": at(301).isoformat(),
    }
    assert published.next().payload == payload
    with database.session() as s:
        stored = s.get_one(Escalation, payload["id"])
        assert (stored.shift_id, stored.supervisor, stored.due_at) == (shift.id, "anna", at(300))
        event = s.scalars(
            select(IncidentEvent).where(IncidentEvent.kind == IncidentEventKind.ESCALATION)
        ).one()
        assert (event.incident_id, event.actor, event.at) == (incident.id, "system", at(301))
        assert (
            event.text == "Not dispatched within 5 min (priority 2): escalated to supervisor anna"
        )
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "escalation.raise")).one()
        assert audited.target == f"incident:{incident.number}"
        assert audited.details["stage"] == "dispatch"
    assert verify(database).intact


def test_each_stage_of_an_incident_escalates_on_its_own_clock(
    database: Database, city: f.EastCity, bus: InProcessBus
) -> None:
    clock = FixedClock(at(0))
    escalator = SlaEscalator(SLA, database, bus, clock=clock)
    with database.session() as s:
        anna = f.user_named(s, "anna")
        incident = incidents.open_incident(
            s, anna, type_code="assault", priority=1, now=at(0), **EAST_POINT
        )
        incidents.transition(s, incident, anna, IncidentStatus.DISPATCHED, now=at(60))
    with database.session() as s:
        officer = f.user_named(s, "officer")
        incident = s.get_one(Incident, incident.id)
        incidents.transition(s, incident, officer, IncidentStatus.ACCEPTED, now=at(500))

    clock.now = at(500 + 600 + 1)  # accepted late; now the arrival is late too
    escalated = escalator.check()

    assert [(p["stage"], p["police_unit_id"]) for p in escalated] == [("arrive", city.unit_id)]
    assert escalated[0]["supervisor_id"] is None
    with database.session() as s:
        text = s.scalars(
            select(IncidentEvent.text).where(IncidentEvent.kind == IncidentEventKind.ESCALATION)
        ).one()
    assert text == "Not on scene within 10 min (priority 1): no shift on, nobody to escalate to"


def test_clocks_restart_at_a_rejection_and_at_each_dispatch(
    database: Database, city: f.EastCity, bus: InProcessBus
) -> None:
    """Review finding 5: after a unit rejects and the incident is dispatched again, the dispatch
    clock runs from the rejection and the accept clock from the latest dispatch; the second
    unit's silence escalates although the first unit's already did."""
    clock = FixedClock(at(0))
    escalator = SlaEscalator(SLA, database, bus, clock=clock)
    dispatch, accept = 300, 300  # priority 2
    with database.session() as s:
        anna = f.user_named(s, "anna")
        incident = incidents.open_incident(
            s, anna, type_code="theft", priority=2, now=at(0), **EAST_POINT
        )
        first = incidents.transition(s, incident, anna, IncidentStatus.DISPATCHED, now=at(30))
    clock.now = at(30 + accept + 1)
    [first_silence] = escalator.check()

    rejected_at = 30 + accept + 10
    with database.session() as s:
        incident = s.get_one(Incident, incident.id)
        rejection = incidents.transition(
            s,
            incident,
            f.user_named(s, "officer"),
            IncidentStatus.NEW,
            reason="not ours",
            now=at(rejected_at),
        )
    clock.now = at(rejected_at + 1)
    assert escalator.check() == []  # it waited since opening, but only 1 s since the rejection
    clock.now = at(rejected_at + dispatch + 1)
    [undispatched] = escalator.check()

    redispatched_at = rejected_at + 3600
    with database.session() as s:
        incident = s.get_one(Incident, incident.id)
        second = incidents.transition(
            s,
            incident,
            f.user_named(s, "anna"),
            IncidentStatus.DISPATCHED,
            police_unit_id=city.unit_id,
            now=at(redispatched_at),
        )
    clock.now = at(redispatched_at + 1)
    assert escalator.check() == []  # not overdue from the first dispatch, an hour ago
    clock.now = at(redispatched_at + accept + 1)
    [second_silence] = escalator.check()
    clock.now = at(redispatched_at + accept + 600)
    assert escalator.check() == []

    assert [(p["stage"], p["overdue_seconds"]) for p in (first_silence, undispatched)] == [
        ("accept", 1.0),
        ("dispatch", 1.0),
    ]
    assert (second_silence["stage"], second_silence["overdue_seconds"]) == ("accept", 1.0)
    with database.session() as s:
        stored = s.scalars(select(Escalation).order_by(Escalation.id)).all()
        assert [(e.stage, e.clock_event_id, e.due_at) for e in stored] == [
            (SlaStage.ACCEPT, first.id, at(30 + accept)),
            (SlaStage.DISPATCH, rejection.id, at(rejected_at + dispatch)),
            (SlaStage.ACCEPT, second.id, at(redispatched_at + accept)),
        ]
        # The SLA figures still measure the first dispatch.
        assert s.get_one(Incident, incident.id).dispatched_at == at(30)
    assert verify(database).intact


class CountingBus(InProcessBus):
    """Notes how many escalations are committed when each one is published."""

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.committed: list[int] = []
        self._database = database

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        with self._database.session() as s:
            self.committed.append(s.scalar(select(func.count()).select_from(Escalation)) or 0)
        super().publish(topic, payload)


def test_a_burst_of_breaches_is_escalated_and_published_in_small_transactions(
    database: Database, city: f.EastCity
) -> None:
    """Review finding 9: the pass commits ``CHUNK`` escalations at a time (holding the audit
    lock only that long) and publishes each chunk after its commit."""
    with database.session() as s:
        for index in range(CHUNK * 2 + 5):
            raise_alert(
                s,
                source=AlertSource.MANUAL,
                kind=f"kind-{index}",
                title="Waiting",
                camera_id=city.camera_id,
                priority=1,
                now=at(0),
            )
    bus = CountingBus(database)
    try:
        escalated = SlaEscalator(SLA, database, bus, clock=FixedClock(at(3600))).check()
    finally:
        bus.close()

    assert len(escalated) == CHUNK * 2 + 5
    assert len({p["alert_id"] for p in escalated}) == len(escalated)
    assert bus.committed == [CHUNK] * CHUNK + [CHUNK * 2] * CHUNK + [CHUNK * 2 + 5] * 5
    assert verify(database).intact


def test_an_unacknowledged_alert_escalates_with_no_shift_on(
    database: Database, city: f.EastCity, bus: InProcessBus
) -> None:
    published = Published(bus)
    clock = FixedClock(at(61))
    with database.session() as s:
        waiting, _ = raise_alert(
            s,
            source=AlertSource.MANUAL,
            kind="fire",
            title="Fire",
            camera_id=city.camera_id,
            now=at(0),
        )
        seen, _ = raise_alert(
            s,
            source=AlertSource.MANUAL,
            kind="fight",
            title="Fight",
            camera_id=city.camera_id,
            now=at(0),
        )
        acknowledge(s, seen, f.user_named(s, "anna"), now=at(30))

    [payload] = SlaEscalator(SLA, database, bus, clock=clock).check()

    assert (payload["alert_id"], payload["stage"], payload["number"]) == (
        waiting.id,
        "acknowledge",
        None,
    )
    assert (payload["supervisor_id"], payload["district_id"]) == (None, city.district_id)
    assert published.next().topic == FEED_TOPIC
    with database.session() as s:
        assert s.get_one(Escalation, payload["id"]).supervisor is None
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "escalation.raise")).one()
    assert audited.target == f"alert:{waiting.id}"
    assert "no shift on" in audited.details["text"]


def test_the_worker_checks_on_its_own_and_stops(
    database: Database, city: f.EastCity, bus: InProcessBus
) -> None:
    published = Published(bus)
    with database.session() as s:
        raise_alert(
            s,
            source=AlertSource.MANUAL,
            kind="fire",
            title="Fire",
            camera_id=city.camera_id,
            now=at(0),
        )
    fast = SlaSettings(check_seconds=0.05)
    escalator = SlaEscalator(fast, database, bus, clock=FixedClock(at(3600)))

    escalator.start()
    try:
        message = published.next()
    finally:
        escalator.stop()

    assert message.payload["stage"] == "acknowledge"


# ---------------------------------------------------------------------------------------------
# The escalations API


@pytest.fixture
def client(database: Database, city: f.EastCity, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path), database)) as test_client:
        yield test_client


def _headers(database: Database, username: str) -> dict[str, str]:
    with database.session() as s:
        token, _ = open_session(s, f.user_named(s, username), timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def test_the_supervisor_lists_open_escalations_and_acknowledges_them(
    client: TestClient, database: Database, city: f.EastCity, bus: InProcessBus
) -> None:
    with database.session() as s:
        anna = f.user_named(s, "anna")
        shifts.start_shift(s, anna, now=at(-60))
        incident = incidents.open_incident(
            s, anna, type_code="theft", priority=2, now=at(0), **EAST_POINT
        )
    [payload] = SlaEscalator(SLA, database, bus, clock=FixedClock(at(1000))).check()
    anna_headers = _headers(database, "anna")

    listed = client.get("/api/escalations", headers=anna_headers).json()
    acknowledged = client.post(
        f"/api/escalations/{payload['id']}/acknowledge", headers=anna_headers
    )
    twice = client.post(f"/api/escalations/{payload['id']}/acknowledge", headers=anna_headers)
    missing = client.post("/api/escalations/999/acknowledge", headers=anna_headers)
    officer = client.post(
        f"/api/escalations/{payload['id']}/acknowledge", headers=_headers(database, "officer")
    )

    assert [(e["number"], e["stage"], e["sent_to"]) for e in listed] == [
        (incident.number, "dispatch", "anna")
    ]
    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged_by"] == "anna"
    assert twice.status_code == 409
    assert missing.status_code == 404
    assert officer.status_code == 403
    assert client.get("/api/escalations", headers=anna_headers).json() == []
    with database.session() as s:
        assert (
            s.scalar(select(AuditEntry.target).where(AuditEntry.action == "escalation.acknowledge"))
            == f"escalation:{payload['id']}"
        )
