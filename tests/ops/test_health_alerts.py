"""Camera-health alerts driven by published StreamHealth reports and a fake clock (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from safecity.bus import InProcessBus, Message
from safecity.bus.core import Handler, topic_matches
from safecity.city.models import Camera
from safecity.ops.alerts.camera_health import CameraHealthAlerts
from safecity.ops.alerts.rule_models import AlertRule
from safecity.ops.alerts.rules import RuleScope
from safecity.ops.models import Alert, AlertSource
from safecity.store.engine import Database
from safecity.video.ingest.health import StreamHealth, health_topic, publish_health
from safecity.video.models import StreamStatus
from tests import factories as f

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=30)


class _Closed:
    def close(self) -> None:
        pass


class SyncBus:
    """Delivers on the publisher's thread, so a test sees the effect at once."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        for pattern, handler in self._handlers:
            if topic_matches(pattern, topic):
                handler(Message(topic, payload))

    def subscribe(self, pattern: str, handler: Handler) -> _Closed:
        self._handlers.append((pattern, handler))
        return _Closed()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _health(status: StreamStatus, detail: str | None = None) -> StreamHealth:
    return StreamHealth("CAM-1", status, detail, fps=0.0, bitrate_kbps=0.0, last_packet_at=None)


def _alerts(database: Database) -> list[Alert]:
    with database.session() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


@pytest.fixture
def camera_id(database: Database) -> int:
    with database.session() as s:
        return f.add_camera(s, "CAM-1", f.add_district(s, "east", f.EAST)).id


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus(database: Database, clock: Clock) -> SyncBus:
    bus = SyncBus()
    CameraHealthAlerts(bus, database, grace=GRACE, clock=clock).start()
    return bus


def _report(bus: SyncBus, clock: Clock, at: float, status: StreamStatus, detail: str = "") -> None:
    clock.now = T0 + timedelta(seconds=at)
    publish_health(bus, _health(status, detail or None))


def test_a_blip_shorter_than_the_grace_raises_nothing(
    database: Database, camera_id: int, bus: SyncBus, clock: Clock
) -> None:
    _report(bus, clock, 0, StreamStatus.ONLINE)
    _report(bus, clock, 2, StreamStatus.UNREACHABLE)
    _report(bus, clock, 4, StreamStatus.CONNECTING)
    _report(bus, clock, 20, StreamStatus.UNREACHABLE)
    _report(bus, clock, 31, StreamStatus.ONLINE)  # back before 2 + 30 s
    _report(bus, clock, 40, StreamStatus.UNREACHABLE)
    assert _alerts(database) == []


def test_an_outage_past_the_grace_raises_one_alert_and_a_new_outage_another(
    database: Database, camera_id: int, bus: SyncBus, clock: Clock
) -> None:
    _report(bus, clock, 0, StreamStatus.ONLINE)
    _report(bus, clock, 2, StreamStatus.UNREACHABLE, "connection refused")
    _report(bus, clock, 31, StreamStatus.UNREACHABLE)
    assert _alerts(database) == []
    _report(bus, clock, 32, StreamStatus.UNREACHABLE, "connection refused")
    for at in range(34, 120, 2):  # reports keep coming; the status may change in the outage
        _report(bus, clock, at, StreamStatus.CONNECTING if at % 4 else StreamStatus.STALLED)
    [alert] = _alerts(database)
    assert alert.source is AlertSource.CAMERA_HEALTH and alert.kind == "camera_unreachable"
    assert alert.camera_id == camera_id and alert.count == 1
    assert alert.title == "Camera CAM-1 cannot be reached (for 30 s): connection refused"
    assert alert.first_at == T0 + timedelta(seconds=32)

    _report(bus, clock, 122, StreamStatus.ONLINE)
    _report(bus, clock, 124, StreamStatus.UNAUTHORIZED, "401 from the camera")
    _report(bus, clock, 150, StreamStatus.UNAUTHORIZED)
    assert len(_alerts(database)) == 1
    _report(bus, clock, 156, StreamStatus.UNAUTHORIZED)
    first, second = _alerts(database)
    assert first.id == alert.id and second.kind == "camera_unauthorized" and second.count == 1


def test_a_camera_down_at_start_for_less_than_the_longer_grace_or_stopped_raises_nothing(
    database: Database, camera_id: int, bus: SyncBus, clock: Clock
) -> None:
    _report(bus, clock, 0, StreamStatus.UNREACHABLE)
    _report(bus, clock, 60, StreamStatus.UNREACHABLE)
    _report(bus, clock, 119, StreamStatus.UNREACHABLE)
    _report(bus, clock, 62, StreamStatus.ONLINE)
    _report(bus, clock, 64, StreamStatus.STOPPED)
    _report(bus, clock, 66, StreamStatus.OFFLINE)
    _report(bus, clock, 200, StreamStatus.OFFLINE)
    assert _alerts(database) == []


def test_a_camera_down_since_the_node_started_raises_one_alert_after_the_longer_grace(
    database: Database, camera_id: int, bus: SyncBus, clock: Clock
) -> None:
    _report(bus, clock, 0, StreamStatus.UNREACHABLE, "no route to host")
    for at in range(2, 120, 2):
        _report(bus, clock, at, StreamStatus.CONNECTING if at % 4 else StreamStatus.UNREACHABLE)
    assert _alerts(database) == []
    _report(bus, clock, 120, StreamStatus.UNREACHABLE, "no route to host")
    _report(bus, clock, 300, StreamStatus.UNREACHABLE)
    [alert] = _alerts(database)
    assert alert.title == (
        "Camera CAM-1 cannot be reached since the node started (for 120 s): no route to host"
    )
    assert alert.details["down_since_start"] is True and alert.count == 1
    assert alert.details["failing_since"] == T0.isoformat()

    _report(bus, clock, 302, StreamStatus.ONLINE)  # from now on the ordinary 30 s grace
    _report(bus, clock, 304, StreamStatus.OFFLINE)
    _report(bus, clock, 334, StreamStatus.OFFLINE)
    first, second = _alerts(database)
    assert first.id == alert.id and second.title == "Camera CAM-1 is offline (for 30 s)"
    assert second.details["down_since_start"] is False


def test_camera_outages_go_through_the_alert_rules(
    database: Database, camera_id: int, bus: SyncBus, clock: Clock
) -> None:
    with database.session() as s:
        camera = s.get_one(Camera, camera_id)
        s.add_all(
            [
                AlertRule(
                    name="This camera matters",
                    kind="camera_unreachable",
                    scope=RuleScope.CAMERA,
                    camera_id=camera_id,
                    priority=1,
                ),
                AlertRule(
                    name="Nobody cares when the east is stalled",
                    kind="camera_stalled",
                    scope=RuleScope.DISTRICT,
                    district_id=camera.district_id,
                    suppress=True,
                ),
            ]
        )
    _report(bus, clock, 0, StreamStatus.ONLINE)
    _report(bus, clock, 2, StreamStatus.STALLED)
    _report(bus, clock, 40, StreamStatus.STALLED)
    _report(bus, clock, 80, StreamStatus.STALLED)
    assert _alerts(database) == []  # suppressed, and not tried again
    _report(bus, clock, 82, StreamStatus.ONLINE)
    _report(bus, clock, 84, StreamStatus.UNREACHABLE)
    _report(bus, clock, 120, StreamStatus.UNREACHABLE)
    [alert] = _alerts(database)
    assert alert.priority == 1 and alert.kind == "camera_unreachable"
    assert alert.details["rule"]["name"] == "This camera matters"


def test_malformed_reports_are_ignored(
    database: Database, camera_id: int, bus: SyncBus, clock: Clock
) -> None:
    _report(bus, clock, 0, StreamStatus.ONLINE)
    bus.publish(health_topic("CAM-1"), {"camera": "CAM-1", "status": "exploded"})
    bus.publish(health_topic("CAM-1"), {"status": "offline"})
    _report(bus, clock, 2, StreamStatus.OFFLINE)
    _report(bus, clock, 40, StreamStatus.OFFLINE)
    [alert] = _alerts(database)
    assert alert.kind == "camera_offline"


def test_an_unknown_camera_raises_nothing(database: Database, bus: SyncBus, clock: Clock) -> None:
    _report(bus, clock, 0, StreamStatus.ONLINE)
    _report(bus, clock, 2, StreamStatus.OFFLINE)
    _report(bus, clock, 40, StreamStatus.OFFLINE)
    assert _alerts(database) == []


def test_works_over_the_in_process_bus(sqlite_database: Database) -> None:
    with sqlite_database.session() as s:
        f.add_camera(s, "CAM-1", f.add_district(s, "east", f.EAST))
    times = iter([T0, T0 + timedelta(seconds=45)])  # read only on failing reports
    bus = InProcessBus()
    alerts = CameraHealthAlerts(bus, sqlite_database, grace=GRACE, clock=lambda: next(times))
    alerts.start()
    try:
        publish_health(bus, _health(StreamStatus.ONLINE))
        bus.publish(health_topic("CAM-1"), {"not": "health"})
        publish_health(bus, _health(StreamStatus.STALLED))
        publish_health(bus, _health(StreamStatus.STALLED))
    finally:
        alerts.stop()  # delivers what was already published
        bus.close()
    [alert] = _alerts(sqlite_database)
    assert alert.kind == "camera_stalled"


FULL_DISK = "cannot write recordings/CAM-1/2026-05-01/120040-000.mp4: no space left on device"


def _recording(bus: SyncBus, clock: Clock, at: float, error: str | None) -> None:
    clock.now = T0 + timedelta(seconds=at)
    health = replace(_health(StreamStatus.ONLINE), recording=error is None, recording_error=error)
    publish_health(bus, health)


def test_an_online_camera_that_cannot_be_recorded_raises_one_alert_with_the_reason(
    database: Database, camera_id: int, bus: SyncBus, clock: Clock
) -> None:
    _recording(bus, clock, 0, None)
    _recording(bus, clock, 2, FULL_DISK)
    _recording(bus, clock, 31, None)  # space came back before 2 + 30 s
    assert _alerts(database) == []

    _recording(bus, clock, 40, FULL_DISK)
    _recording(bus, clock, 69, FULL_DISK)
    assert _alerts(database) == []
    _report(bus, clock, 70, StreamStatus.STALLED)  # not online: the recording outage waits
    for at in range(72, 120, 2):
        _recording(bus, clock, at, FULL_DISK)
    [alert] = _alerts(database)
    assert alert.source is AlertSource.CAMERA_HEALTH and alert.kind == "camera_not_recording"
    assert alert.camera_id == camera_id and alert.count == 1
    assert alert.title == f"Camera CAM-1 is not recording (for 32 s): {FULL_DISK}"[:200]
    assert alert.details["error"] == FULL_DISK
    assert alert.first_at == T0 + timedelta(seconds=72)

    _recording(bus, clock, 122, None)
    _recording(bus, clock, 124, FULL_DISK)
    _recording(bus, clock, 156, FULL_DISK)
    first, second = _alerts(database)
    assert first.id == alert.id and second.kind == "camera_not_recording"
