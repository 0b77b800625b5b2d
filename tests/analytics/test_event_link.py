"""An analytics event sent to the OCC links to the event stored before it: the alert gets the
event's thumbnail, the event its alert. A forged id of another camera's event links nothing."""

from __future__ import annotations

from datetime import UTC

from safecity.analytics.models import AnalyticsEvent
from safecity.ops.alerts.analytics import AnalyticsEvent as SentEvent
from safecity.ops.alerts.analytics import Outcome, take_event
from safecity.ops.alerts.schemas import alert_out
from safecity.store.engine import Database
from tests import factories as f
from tests.analytics.stored_city import T0, add_event


def _cameras(database: Database) -> tuple[int, int]:
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        return f.add_camera(session, "W-1", district).id, f.add_camera(session, "W-2", district).id


def _sent(event_id: int) -> SentEvent:
    return SentEvent.model_validate(
        {
            "kind": "intrusion",
            "confidence": 0.9,
            "at": T0.isoformat(),
            "zone": "Gate",
            "snapshot": "snapshots/W-1/a.jpg",
            "details": {"event_id": event_id, "track": 3},
        }
    )


def test_the_alert_and_its_stored_event_point_at_each_other(database: Database) -> None:
    first, _ = _cameras(database)
    stored = add_event(database, first, snapshot="snapshots/W-1/a.jpg")
    with database.session() as session:
        outcome, alert = take_event(session, "W-1", _sent(stored), zone=UTC)
        assert outcome is Outcome.RAISED and alert is not None
        assert alert_out(alert).thumbnail_url == f"/api/analytics/events/{stored}/snapshot"
        event = session.get(AnalyticsEvent, stored)
        assert event is not None and event.alert_id == alert.id


def test_another_cameras_event_id_links_nothing_and_shows_no_thumbnail(database: Database) -> None:
    first, _ = _cameras(database)
    stored = add_event(database, first, snapshot="snapshots/W-1/a.jpg")
    with database.session() as session:
        outcome, alert = take_event(session, "W-2", _sent(stored), zone=UTC)  # forged
        assert outcome is Outcome.RAISED and alert is not None
        assert "event_id" not in alert.details and alert.details["track"] == 3
        assert alert_out(alert).thumbnail_url is None
        event = session.get(AnalyticsEvent, stored)
        assert event is not None and event.alert_id is None
