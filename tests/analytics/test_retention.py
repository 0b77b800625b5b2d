"""Old analytics snapshots and events are deleted; what is still in its time is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from safecity.analytics.models import AnalyticsEvent
from safecity.analytics.retention import purge
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.models import AlertSource
from safecity.store.engine import Database
from tests import factories as f
from tests.analytics.stored_city import add_event

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _camera(database: Database) -> int:
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        return f.add_camera(session, "W-1", district).id


def _event_with_snapshot(database: Database, media: Path, camera_id: int, days_ago: float) -> int:
    relative = f"snapshots/W-1/{days_ago}.jpg"
    (media / relative).parent.mkdir(parents=True, exist_ok=True)
    (media / relative).write_bytes(b"\xff\xd8\xff jpeg")
    return add_event(database, camera_id, at=NOW - timedelta(days=days_ago), snapshot=relative)


def _stored(database: Database) -> dict[int, str | None]:
    with database.session() as session:
        return dict(session.execute(select(AnalyticsEvent.id, AnalyticsEvent.snapshot)).all())


def test_old_snapshots_go_then_old_events(database: Database, tmp_path: Path) -> None:
    camera_id = _camera(database)
    recent = _event_with_snapshot(database, tmp_path, camera_id, 1)
    month_old = _event_with_snapshot(database, tmp_path, camera_id, 40)
    year_old = _event_with_snapshot(database, tmp_path, camera_id, 400)
    assert year_old not in (recent, month_old)
    assert len(_stored(database)) == 3

    with database.session() as session:
        purged = purge(session, tmp_path, now=NOW, snapshot_days=30, events_days=365)

    assert (purged.snapshots, purged.events) == (2, 1)
    stored = _stored(database)
    assert set(stored) == {recent, month_old}
    assert stored[recent] == "snapshots/W-1/1.jpg" and (tmp_path / stored[recent]).exists()
    assert stored[month_old] is None
    assert sorted(p.name for p in (tmp_path / "snapshots/W-1").iterdir()) == ["1.jpg"]


def test_a_pass_takes_one_batch_and_the_next_goes_on(database: Database, tmp_path: Path) -> None:
    camera_id = _camera(database)
    for days in (31, 32, 33):
        _event_with_snapshot(database, tmp_path, camera_id, days)
    with database.session() as session:
        first = purge(session, tmp_path, now=NOW, snapshot_days=30, events_days=365, batch=2)
    with database.session() as session:
        second = purge(session, tmp_path, now=NOW, snapshot_days=30, events_days=365, batch=2)
    assert (first.snapshots, second.snapshots) == (2, 1)
    assert set(_stored(database).values()) == {None}


def test_a_snapshot_already_gone_or_leading_outside_is_not_a_failure(
    database: Database, tmp_path: Path
) -> None:
    camera_id = _camera(database)
    media = tmp_path / "media"
    outside = tmp_path / "keep-me.jpg"
    outside.write_bytes(b"not ours")
    (media / "snapshots").mkdir(parents=True)
    (media / "snapshots" / "link.jpg").symlink_to(outside)
    add_event(database, camera_id, at=NOW - timedelta(days=50), snapshot="snapshots/link.jpg")
    add_event(database, camera_id, at=NOW - timedelta(days=50), snapshot="snapshots/gone.jpg")
    with database.session() as session:
        purged = purge(session, media, now=NOW, snapshot_days=30, events_days=365)
    assert purged.snapshots == 2
    assert outside.read_bytes() == b"not ours"


def test_the_snapshot_of_an_event_that_raised_an_alert_stays_until_the_event_goes(
    database: Database, tmp_path: Path
) -> None:
    camera_id = _camera(database)
    alerted = _event_with_snapshot(database, tmp_path, camera_id, 40)
    with database.session() as session:
        alert, _ = raise_alert(
            session,
            source=AlertSource.ANALYTICS,
            kind="intrusion",
            title="Intrusion at camera W-1",
            camera_id=camera_id,
        )
        event = session.get(AnalyticsEvent, alerted)
        assert event is not None
        event.alert_id = alert.id
    with database.session() as session:
        purged = purge(session, tmp_path, now=NOW, snapshot_days=30, events_days=365)
    assert purged.snapshots == 0
    assert _stored(database)[alerted] == "snapshots/W-1/40.jpg"
    with database.session() as session:
        purged = purge(session, tmp_path, now=NOW, snapshot_days=30, events_days=35)
    assert purged.events == 1 and _stored(database) == {}
    assert not (tmp_path / "snapshots/W-1/40.jpg").exists()
