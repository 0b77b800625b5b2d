"""The analytics live, end to end: a camera (real footage played at real time) ingested by the
video node, analysed with its stored rules, events stored with their snapshots, alerts raised
in the OCC with their thumbnails, the analysis figures in the camera's health."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from safecity.analytics.models import AnalyticsEvent, AnalyticsRule
from safecity.analytics.node import AnalyticsNode
from safecity.analytics.rule_store import replace_camera_rules
from safecity.analytics.rules.definitions import CameraRules
from safecity.auth.models import Role
from safecity.bus import InProcessBus
from safecity.city.models import Camera
from safecity.ops.alerts.schemas import alert_out
from safecity.ops.models import Alert, AlertSource
from safecity.ops.services import OpsServices
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.ingest.health import CameraHealthRecorder
from safecity.video.models import CameraStream
from safecity.video.node import VideoNode
from tests import factories as f

pytestmark = pytest.mark.slow  # watches real-time footage for several seconds

ANYONE_ON_THE_PLAZA = {"rules": [{"kind": "intrusion", "name": "plaza", "classes": ["person"]}]}


def wait_for(what: str, found: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Running:
    database: Database
    analytics: AnalyticsNode
    camera_id: int
    media: Path


@pytest.fixture
def running(
    database: Database, plaza_h264: Path, ssd_model: Path, tmp_path: Path
) -> Iterator[Running]:
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        site = f.add_site(session, "plaza", district)
        camera = f.add_camera(session, "PLAZA-1", district, site, main_stream_url=str(plaza_h264))
        admin = f.add_user(session, "admin", Role.ADMIN)
        replace_camera_rules(
            session, camera, CameraRules.model_validate(ANYONE_ON_THE_PLAZA), admin
        )
        camera_id = camera.id
    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            "analytics": {"models_dir": str(ssd_model.parent.parent), "rules_refresh_seconds": 0.5},
        }
    )
    bus = InProcessBus()
    health = CameraHealthRecorder(bus, database, flush_every=0.2)
    ops = OpsServices(settings, database, bus)
    analytics = AnalyticsNode(settings, database, bus)
    node = VideoNode(settings, database, bus, health_every=0.5, watchers=[analytics])
    health.start()
    ops.start()
    analytics.start()
    node.start()
    try:
        yield Running(database, analytics, camera_id, settings.media_path)
    finally:
        node.stop()
        analytics.stop()
        ops.stop()
        health.stop()
        bus.close()


def _events(database: Database) -> list[AnalyticsEvent]:
    with database.session() as session:
        return list(session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id)))


def test_a_person_on_the_plaza_becomes_an_event_and_an_alert_with_its_snapshot(
    running: Running,
) -> None:
    database = running.database
    events = wait_for("an intrusion event", lambda: _events(database), timeout=30)
    event = events[0]
    assert (event.camera_id, event.kind, event.rule_name, event.object_class) == (
        running.camera_id,
        "intrusion",
        "plaza",
        "person",
    )
    assert event.track_id is not None and 0.5 <= event.confidence <= 1
    with database.session() as session:
        rule = session.scalars(select(AnalyticsRule).where(AnalyticsRule.name == "plaza")).one()
    assert event.rule_id == rule.id
    assert event.clip_start < event.started_at <= event.at < event.clip_end
    # The snapshot is a JPEG in the media folder.
    assert event.snapshot is not None and event.snapshot.startswith("snapshots/PLAZA-1/")
    assert (running.media / event.snapshot).read_bytes()[:3] == b"\xff\xd8\xff"
    # The OCC raised an analytics alert for it, linked both ways, with its thumbnail.
    with database.session() as session:
        alert = wait_for(
            "the alert",
            lambda: (
                session.scalars(select(Alert).where(Alert.source == AlertSource.ANALYTICS)).first()
                or session.expire_all()
            ),
        )
        assert alert.kind == "intrusion" and alert.camera_id == running.camera_id
        assert alert.details["event_id"] == event.id
        assert alert_out(alert).thumbnail_url == f"/api/analytics/events/{event.id}/snapshot"
    linked = wait_for("the event linked to its alert", lambda: _events(database)[0].alert_id)
    assert linked == alert.id
    # One event per person: never two for a track.
    tracks = [e.track_id for e in _events(database)]
    assert len(tracks) == len(set(tracks))


def test_the_analysis_figures_reach_the_camera_health(running: Running) -> None:
    def figures() -> dict[str, float] | None:
        with running.database.session() as session:
            row = session.get(CameraStream, running.camera_id)
            return row.analytics if row is not None and row.analytics else None

    wait_for("a first report", figures)
    time.sleep(3)  # a few seconds of frames for the rates
    shown = figures()
    assert shown is not None
    assert shown["streaming"] == 1
    assert 3.5 <= shown["analysed_fps"] <= 6.5  # the detect rate, 5 fps
    assert shown["decode_fps"] >= shown["analysed_fps"]  # the footage is 10 fps
    assert shown["skipped_fps"] == 0
    assert shown["detector_ms"] > 0 and 0 < shown["detector_share"] <= 1
    assert 0 < shown["motion_share"] < 0.5


def test_edited_rules_reach_the_camera_without_a_restart(running: Running) -> None:
    database = running.database
    wait_for("the first rule's event", lambda: _events(database))
    with database.session() as session:
        camera = session.get(Camera, running.camera_id)
        admin = f.user_named(session, "admin")
        assert camera is not None
        replace_camera_rules(
            session,
            camera,
            CameraRules.model_validate(
                {"rules": [{"kind": "intrusion", "name": "anyone at all", "classes": ["person"]}]}
            ),
            admin,
        )
    events = wait_for(
        "an event of the new rule",
        lambda: [e for e in _events(database) if e.rule_name == "anyone at all"],
        timeout=20,
    )
    assert events[0].kind == "intrusion"
