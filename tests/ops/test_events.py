"""The OCC's domain events, with no web app: typed, versioned, published on commit only."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safecity.bus import InProcessBus, Message
from safecity.bus.events import UnknownVersion
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.events import AlertChanged, ChangePublisher, IncidentChanged, Jurisdiction
from safecity.ops.incidents import service as incidents
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import AlertSource, AlertStatus
from safecity.ops.services import OpsServices
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f


class Received:
    """The OCC's change events, in the order they were published."""

    def __init__(self, bus: InProcessBus) -> None:
        self._messages: queue.Queue[Message] = queue.Queue()
        bus.subscribe("ops/+/changed", self._messages.put)

    def next(self) -> Message:
        return self._messages.get(timeout=5)

    def nothing_more(self) -> bool:
        try:
            self._messages.get(timeout=0.3)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def bus() -> Iterator[InProcessBus]:
    bus = InProcessBus()
    yield bus
    bus.close()


def test_changes_made_through_the_domain_reach_the_bus_as_typed_versioned_events(
    database: Database, city: f.EastCity, bus: InProcessBus, tmp_path: Path
) -> None:
    """A process without a web app (a worker) publishes them: the OCC's services do."""
    received = Received(bus)
    services = OpsServices(Settings(data_dir=tmp_path), database, bus)
    services.start()
    try:
        with database.session() as s:
            alert, _ = raise_alert(
                s,
                source=AlertSource.ANALYTICS,
                kind="fight",
                title="Fight",
                camera_id=city.camera_id,
            )
        raised = received.next()
        assert (raised.topic, raised.payload["version"]) == ("ops/alerts/changed", 1)
        event = AlertChanged.from_envelope(raised.payload)
        assert (event.id, event.status, event.count, event.district_id) == (
            alert.id,
            AlertStatus.NEW,
            1,
            city.district_id,
        )

        with database.session() as s:
            incident = incidents.open_incident(
                s, f.user_named(s, "anna"), type_code="assault", alert_ids=[alert.id]
            )
        by_topic = {m.topic: m.payload for m in (received.next(), received.next())}
        opened = IncidentChanged.from_envelope(by_topic["ops/incidents/changed"])
        linked = AlertChanged.from_envelope(by_topic["ops/alerts/changed"])
        assert (opened.id, opened.number, opened.status, opened.camera_ids) == (
            incident.id,
            incident.number,
            IncidentStatus.NEW,
            [city.camera_id],
        )
        assert (linked.status, linked.incident_id) == (AlertStatus.IN_INCIDENT, incident.id)

        with database.session() as s:
            mine = s.get_one(type(incident), incident.id)
            incidents.transition(s, mine, f.user_named(s, "anna"), IncidentStatus.DISPATCHED)
        dispatched = IncidentChanged.from_envelope(received.next().payload)
        assert (dispatched.status, dispatched.police_unit_id) == (
            IncidentStatus.DISPATCHED,
            city.unit_id,
        )
        assert dispatched.moved_from is None

        with database.session() as s:
            mine = s.get_one(type(incident), incident.id)
            incidents.transition(
                s, mine, f.user_named(s, "officer"), IncidentStatus.NEW, reason="Not ours"
            )
        rejected = IncidentChanged.from_envelope(received.next().payload)
        assert (rejected.status, rejected.police_unit_id) == (IncidentStatus.NEW, None)
        assert rejected.moved_from == Jurisdiction(
            district_id=city.district_id, police_unit_id=city.unit_id
        )
        assert received.nothing_more()
    finally:
        services.stop()


def test_events_are_published_when_the_transaction_commits_and_never_on_rollback(
    database: Database, city: f.EastCity, bus: InProcessBus
) -> None:
    received = Received(bus)
    publisher = ChangePublisher(database.sessions, bus)
    publisher.start()
    try:
        with pytest.raises(RuntimeError), database.session() as s:
            raise_alert(s, source=AlertSource.MANUAL, kind="a", title="A", camera_id=city.camera_id)
            raise RuntimeError("rolled back")
        with database.session() as s:
            alert, _ = raise_alert(
                s, source=AlertSource.MANUAL, kind="b", title="B", camera_id=city.camera_id
            )
            alert.count = 3  # a second flush: the state that commits is what is published
            s.flush()
        [published] = [received.next()]
        assert received.nothing_more()
    finally:
        publisher.stop()
    changed = AlertChanged.from_envelope(published.payload)
    assert (changed.id, changed.kind, changed.count) == (alert.id, "b", 3)


def test_an_event_round_trips_through_json() -> None:
    alert = AlertChanged(
        id=7,
        source=AlertSource.CAMERA_HEALTH,
        kind="camera_down",
        title="Camera down",
        priority=2,
        status=AlertStatus.ACKNOWLEDGED,
        camera_id=3,
        site_id=None,
        district_id=1,
        latitude=51.15,
        longitude=71.45,
        details={"reason": "no frames", "seconds": 12.5, "nested": {"ok": [1, None]}},
        count=4,
        first_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        last_at=datetime(2026, 5, 1, 12, 3, 0, 250_000, tzinfo=UTC),
        acknowledged_at=datetime(2026, 5, 1, 12, 1, tzinfo=UTC),
        incident_id=None,
        group_id=5,
        group_key="camera_down:5",
    )
    incident = IncidentChanged(
        id=9,
        number="2026-000009",
        type_code="theft",
        priority=3,
        status=IncidentStatus.NEW,
        latitude=51.15,
        longitude=71.45,
        district_id=1,
        police_unit_id=None,
        opened_by="anna",
        opened_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        dispatched_at=datetime(2026, 5, 1, 12, 2, tzinfo=UTC),
        accepted_at=None,
        on_scene_at=None,
        resolved_at=None,
        closed_at=None,
        summary="Bag taken",
        camera_ids=[3, 4],
        moved_from=Jurisdiction(district_id=1, police_unit_id=2),
    )
    for event in (alert, incident):
        wire = json.dumps(event.envelope())
        assert type(event).from_envelope(json.loads(wire)) == event


def test_a_version_the_reader_does_not_know_is_refused() -> None:
    with pytest.raises(UnknownVersion):
        AlertChanged.from_envelope({"version": 2, "data": {}})
