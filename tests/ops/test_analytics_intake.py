"""Analytics intake and area grouping: events on the bus and over the signed endpoint become
alerts as the rules say; malformed events are dropped without losing the next; bursts fold,
nearby alerts group, every new alert is audited once; sources over their rate get 429
(SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safecity.api.app import create_app
from safecity.audit.log import verify
from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.ops.alerts import analytics as analytics_intake
from safecity.ops.alerts.analytics import AnalyticsAlerts, Outcome, events_topic
from safecity.ops.alerts.grouping import AlertGrouping, distance_m
from safecity.ops.alerts.inbound import sign
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.alerts.rule_models import AlertRule
from safecity.ops.alerts.rules import RuleScope
from safecity.ops.models import Alert, AlertSource, AlertStatus
from safecity.settings import OpsSettings, Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.ops.test_health_alerts import SyncBus

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECRET = "secret-of-the-analytics-box"


@pytest.fixture
def city(database: Database) -> dict[str, int]:
    """Two cameras at one school, a third 70 m away on the street, a fourth across town."""
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        east = f.add_district(s, "east", f.EAST)
        school = f.add_site(s, "school-12", west)
        gate = f.add_camera(s, "GATE", west, school)
        yard = f.add_camera(s, "YARD", west, school)
        yard.latitude, yard.longitude = 51.1520, 71.3520
        street = f.add_camera(s, "STREET", west)
        street.latitude, street.longitude = 51.1506, 71.3500
        far = f.add_camera(s, "FAR", east)
        f.add_user(s, "operator", Role.OPERATOR)
        return {
            "west": west.id,
            "school": school.id,
            "gate": gate.id,
            "yard": yard.id,
            "street": street.id,
            "far": far.id,
        }


@pytest.fixture
def intake(database: Database, city: dict[str, int]) -> Iterator[tuple[SyncBus, AnalyticsAlerts]]:
    bus = SyncBus()
    worker = AnalyticsAlerts(bus, database)
    worker.start()
    yield bus, worker
    worker.stop()


def _event(kind: str = "intrusion", confidence: float = 0.9, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "confidence": confidence, "at": "2026-05-01T21:14:03+05:00", **extra}


def _alerts(database: Database) -> list[Alert]:
    with database.session() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def _audited(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


def test_an_event_on_the_bus_raises_an_analytics_alert_and_a_burst_folds_into_it(
    database: Database, city: dict[str, int], intake: tuple[SyncBus, AnalyticsAlerts]
) -> None:
    bus, worker = intake
    event = _event(zone="gate", snapshot="snap/1.jpg", details={"track": 17})
    for _ in range(3):
        bus.publish(events_topic("GATE"), event)
    [alert] = _alerts(database)
    assert alert.source is AlertSource.ANALYTICS and alert.kind == "intrusion"
    assert alert.camera_id == city["gate"] and alert.site_id == city["school"]
    assert alert.count == 3 and alert.priority == 1  # intrusion 2, one up at a site
    assert alert.title == "Intrusion at camera GATE, zone gate (90%)"
    assert alert.details["track"] == 17 and alert.details["snapshot"] == "snap/1.jpg"
    assert alert.details["detected_at"] == "2026-05-01T16:14:03+00:00"
    assert alert.details["rule"] == {"id": None, "name": "default for the kind", "scope": None}
    assert worker.counts == {Outcome.RAISED: 1, Outcome.FOLDED: 2}
    [raised] = _audited(database, "alert.raise")  # the repeats are not audited
    assert raised.actor == "analytics" and raised.target == f"alert:{alert.id}"
    assert raised.details == {
        "source": "analytics",
        "kind": "intrusion",
        "camera": "GATE",
        "priority": 1,
        "rule": alert.details["rule"],
        "group_id": None,
    }


def test_malformed_events_are_dropped_without_losing_the_next_good_one(
    database: Database, intake: tuple[SyncBus, AnalyticsAlerts]
) -> None:
    bus, worker = intake
    for bad in (
        {"kind": "intrusion"},
        _event(confidence=1.5),
        _event(kind="Fire!"),
        {**_event(), "at": "2026-05-01T12:00:00"},  # no time zone
        {**_event(), "colour": "red"},
        _event(details=[1, 2]),
    ):
        bus.publish(events_topic("GATE"), bad)
    bus.publish(events_topic("NO-SUCH-CAMERA"), _event())
    bus.publish(events_topic("GATE"), _event("fire", 0.7))
    [alert] = _alerts(database)
    assert alert.kind == "fire"
    assert worker.counts == {Outcome.MALFORMED: 6, Outcome.UNKNOWN_CAMERA: 1, Outcome.RAISED: 1}


def test_the_cameras_rules_set_the_priority_or_suppress_the_event(
    database: Database, city: dict[str, int], intake: tuple[SyncBus, AnalyticsAlerts]
) -> None:
    bus, worker = intake
    with database.session() as s:
        s.add_all(
            [
                AlertRule(
                    name="Loitering is normal here",
                    kind="loitering",
                    scope=RuleScope.SITE,
                    site_id=city["school"],
                    suppress=True,
                ),
                AlertRule(
                    name="Street crowds matter when sure",
                    kind="crowd",
                    scope=RuleScope.CAMERA,
                    camera_id=city["street"],
                    priority=1,
                    min_confidence=0.8,
                ),
            ]
        )
    bus.publish(events_topic("GATE"), _event("loitering"))
    bus.publish(events_topic("STREET"), _event("crowd", 0.5))
    bus.publish(events_topic("STREET"), _event("crowd", 0.95))
    assert worker.counts[Outcome.SUPPRESSED] == 1
    [crowd] = _alerts(database)  # the sure event folds into the unsure one and raises it
    assert crowd.camera_id == city["street"] and crowd.count == 2 and crowd.priority == 1
    assert crowd.details["rule"]["name"] == "Street crowds matter when sure"
    assert crowd.details["confidence"] == 0.5  # what the first event said
    with database.session() as s:
        s.delete(s.get_one(Alert, crowd.id))
    bus.publish(events_topic("STREET"), _event("crowd", 0.5))
    [unsure] = _alerts(database)
    assert unsure.priority == 3 and unsure.details["rule"]["id"] is None
    assert worker.counts == {Outcome.SUPPRESSED: 1, Outcome.RAISED: 2, Outcome.FOLDED: 1}


def test_alerts_of_a_kind_at_one_site_or_nearby_share_a_group(
    database: Database, city: dict[str, int]
) -> None:
    grouping = AlertGrouping(radius_m=150, window=timedelta(minutes=2))
    assert 60 < distance_m(51.15, 71.35, 51.1506, 71.35) < 70
    with database.session() as s:

        def fire(camera: str, at: float, kind: str = "fight") -> Alert:
            alert, _ = raise_alert(
                s,
                source=AlertSource.ANALYTICS,
                kind=kind,
                title=f"{kind} at {camera}",
                camera_id=city[camera],
                now=T0 + timedelta(seconds=at),
                grouping=grouping,
            )
            return alert

        gate = fire("gate", 0)
        yard = fire("yard", 10)  # same site, 250 m away
        street = fire("street", 20)  # 70 m from the gate, no site
        other_kind = fire("street", 30, kind="fire")
        far = fire("far", 40)
        late = fire("gate", 400)  # the group's alerts were last seen too long ago
        assert gate.group_id == yard.group_id == street.group_id == gate.id
        assert gate.group_key == street.group_key == f"fight:{gate.id}"
        assert other_kind.group_id is None and far.group_id is None
        assert late.group_id is None and late.id != gate.id
        gate.status = AlertStatus.DISMISSED
        s.flush()
        after_dismissal = fire("yard", 410)
        assert after_dismissal.group_id == late.id  # open alerts only: the yard joins the late one


def test_the_alert_list_shows_the_group_and_acknowledging_is_audited(
    database: Database,
    city: dict[str, int],
    intake: tuple[SyncBus, AnalyticsAlerts],
    tmp_path: Path,
) -> None:
    bus, _ = intake
    bus.publish(events_topic("GATE"), _event("fight"))
    bus.publish(events_topic("YARD"), _event("fight"))
    with TestClient(create_app(Settings(data_dir=tmp_path), database)) as client:
        client.post("/api/auth/login", json={"username": "operator", "password": f.PASSWORD})
        listed = client.get("/api/alerts").json()
        assert {a["group_id"] for a in listed} == {min(a["id"] for a in listed)}
        assert len({a["group_key"] for a in listed}) == 1
        first = min(a["id"] for a in listed)
        assert client.post(f"/api/alerts/{first}/acknowledge").status_code == 200
        assert client.post(f"/api/alerts/{first}/acknowledge").status_code == 200
    [ack] = _audited(database, "alert.acknowledge")
    assert ack.actor == "operator" and ack.target == f"alert:{first}"
    assert verify(database).intact


# --- the signed endpoint and rate limits ------------------------------------------------------


@pytest.fixture
def box(database: Database, city: dict[str, int], tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path,
        ops=OpsSettings(
            analytics_sources={"box-1": SECRET},
            inbound_sources={"fire": SECRET},
            source_requests_per_minute=3,
        ),
    )
    with TestClient(create_app(settings, database)) as client:
        yield client


def _post(client: TestClient, url: str, body: dict[str, Any], source: str = "box-1") -> Any:
    raw = json.dumps(body).encode()
    stamp = int(time.time())
    return client.post(
        url,
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-SafeCity-Source": source,
            "X-SafeCity-Timestamp": str(stamp),
            "X-SafeCity-Signature": sign(SECRET, stamp, raw),
        },
    )


def test_a_signed_analytics_event_raises_folds_or_is_refused(
    box: TestClient, database: Database, city: dict[str, int]
) -> None:
    url = "/api/analytics/events"
    first = _post(box, url, {**_event("fire"), "camera": "GATE"})
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "raised"
    assert first.json()["alert"]["camera_id"] == city["gate"]
    again = _post(box, url, {**_event("fire"), "camera": "GATE"})
    assert again.status_code == 200 and again.json()["outcome"] == "folded"
    assert again.json()["alert"]["count"] == 2
    assert _post(box, url, {**_event("fire"), "camera": "NOPE"}).status_code == 422
    assert _post(box, url, {"camera": "GATE"}, source="box-1").status_code == 429
    assert _post(box, url, {**_event(), "camera": "GATE"}, source="fire").status_code == 401
    [alert] = _alerts(database)
    assert alert.details["actor"] == "analytics:box-1"
    [raised] = _audited(database, "alert.raise")
    assert raised.actor == "analytics:box-1"


def test_a_source_over_its_rate_gets_429_with_retry_after_and_nothing_is_stored(
    box: TestClient, database: Database
) -> None:
    url = "/api/alerts/inbound"
    for index in range(3):
        body = {
            "kind": "fire",
            "title": f"Smoke {index}",
            "latitude": 51.15,
            "longitude": 71.3 + index / 100,
        }
        assert _post(box, url, body, source="fire").status_code == 201
    limited = _post(box, url, {"kind": "fire", "title": "Smoke 4", "camera": "FAR"}, source="fire")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 20
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 3
    # the analytics box has its own bucket
    assert _post(box, "/api/analytics/events", {**_event(), "camera": "FAR"}).status_code == 201


class FlakyDatabase:
    """``take_event`` that does its work, then fails as a dropped connection does (so its
    transaction is rolled back) for the first ``failures`` calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        real = analytics_intake.take_event

        def flaky(session: Session, camera_code: str, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            taken = real(session, camera_code, *args, **kwargs)
            if self.calls <= self.failures:
                session.flush()
                raise OperationalError(
                    "COMMIT", {}, Exception("server closed the connection unexpectedly")
                )
            return taken

        monkeypatch.setattr(analytics_intake, "take_event", flaky)


def _retried() -> float:
    return REGISTRY.get_sample_value("safecity_analytics_events_total", {"outcome": "retried"}) or 0


@pytest.fixture
def quick_retries(
    database: Database, city: dict[str, int]
) -> Iterator[tuple[SyncBus, AnalyticsAlerts]]:
    bus = SyncBus()
    worker = AnalyticsAlerts(bus, database, retry_delays=(0.01, 0.02, 0.04))
    worker.start()
    yield bus, worker
    worker.stop()


def test_an_event_that_meets_a_database_failure_is_retried_and_raises_one_alert(
    database: Database,
    quick_retries: tuple[SyncBus, AnalyticsAlerts],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus, worker = quick_retries
    flaky = FlakyDatabase(monkeypatch, failures=2)
    retried_before = _retried()

    bus.publish(events_topic("GATE"), _event())

    [alert] = _alerts(database)  # the failed tries were rolled back: one alert, not folded
    assert alert.kind == "intrusion" and alert.count == 1
    assert len(_audited(database, "alert.raise")) == 1
    assert flaky.calls == 3
    assert worker.counts == {Outcome.RAISED: 1} and worker.retries == 2
    assert _retried() - retried_before == 2
    assert [r.levelname for r in caplog.records if "database failure" in r.message] == [
        "WARNING",
        "WARNING",
    ]


def test_the_event_is_given_up_after_the_last_retry_and_the_next_one_is_taken(
    database: Database,
    quick_retries: tuple[SyncBus, AnalyticsAlerts],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus, worker = quick_retries
    flaky = FlakyDatabase(monkeypatch, failures=4)  # one try and three retries, all failing

    bus.publish(events_topic("GATE"), _event())
    bus.publish(events_topic("GATE"), _event("fire", 0.7))  # the database is back

    [alert] = _alerts(database)
    assert alert.kind == "fire"
    assert flaky.calls == 5
    assert worker.counts == {Outcome.FAILED: 1, Outcome.RAISED: 1} and worker.retries == 3
    [given_up] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "intrusion event at GATE (attempt 4): the event is lost" in given_up.message


def test_unknown_cameras_and_other_errors_are_not_retried(
    database: Database,
    quick_retries: tuple[SyncBus, AnalyticsAlerts],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bus, worker = quick_retries
    calls: list[str] = []
    real = analytics_intake.take_event

    def counted(session: Session, camera_code: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(camera_code)
        if camera_code == "YARD":
            raise ValueError("a bug, not a passing failure")
        return real(session, camera_code, *args, **kwargs)

    monkeypatch.setattr(analytics_intake, "take_event", counted)

    bus.publish(events_topic("NO-SUCH-CAMERA"), _event())
    bus.publish(events_topic("YARD"), _event())
    bus.publish(events_topic("GATE"), {"kind": "intrusion"})  # malformed: never reaches it

    assert calls == ["NO-SUCH-CAMERA", "YARD"]
    assert worker.counts == {
        Outcome.UNKNOWN_CAMERA: 1,
        Outcome.FAILED: 1,
        Outcome.MALFORMED: 1,
    }
    assert worker.retries == 0 and _alerts(database) == []


def test_stopping_gives_up_a_retry_at_once(
    database: Database, city: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = SyncBus()
    worker = AnalyticsAlerts(bus, database, retry_delays=(60.0,))
    FlakyDatabase(monkeypatch, failures=1)
    worker.start()
    timer = threading.Timer(0.2, worker.stop)
    timer.start()
    started = time.monotonic()

    bus.publish(events_topic("GATE"), _event())

    assert time.monotonic() - started < 10
    timer.join()
    assert worker.counts == {Outcome.FAILED: 1} and _alerts(database) == []
