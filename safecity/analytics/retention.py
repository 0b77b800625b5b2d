"""How long analytics events and their snapshots are kept.

A snapshot is a JPEG per event: a busy camera makes thousands a day. Snapshots older than
``analytics.snapshot_days`` are deleted (the event stays, without its picture: counts and
search still find it), except those of events that raised an alert: an operator may still be
looking at it, or an incident hold it. Events older than ``analytics.events_days`` are deleted
with theirs. A call takes at most ``batch`` events of each, oldest first, in its own
transaction, so a long backlog does not hold the database; the caller calls again until a
call finds less than a batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from safecity.analytics.event_store import snapshot_file
from safecity.analytics.models import AnalyticsEvent

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass(frozen=True)
class Purged:
    snapshots: int
    events: int


def purge(
    session: Session,
    media_root: Path,
    *,
    now: datetime,
    snapshot_days: float,
    events_days: float,
    batch: int = BATCH,
) -> Purged:
    """Delete what is past its time (one batch of each); what was deleted."""
    snapshots_before = now - timedelta(days=snapshot_days)
    events_before = now - timedelta(days=events_days)
    old_pictures = session.execute(
        select(AnalyticsEvent.id, AnalyticsEvent.snapshot)
        .where(
            AnalyticsEvent.at < snapshots_before,
            AnalyticsEvent.snapshot.is_not(None),
            AnalyticsEvent.alert_id.is_(None),
        )
        .order_by(AnalyticsEvent.at)
        .limit(batch)
    ).all()
    for _, relative in old_pictures:
        if relative is not None:
            _delete_file(media_root, relative)
    if old_pictures:
        session.execute(
            update(AnalyticsEvent)
            .where(AnalyticsEvent.id.in_([event_id for event_id, _ in old_pictures]))
            .values(snapshot=None)
        )
    old_events = session.execute(
        select(AnalyticsEvent.id, AnalyticsEvent.snapshot)
        .where(AnalyticsEvent.at < events_before)
        .order_by(AnalyticsEvent.at)
        .limit(batch)
    ).all()
    for _, relative in old_events:
        if relative is not None:
            _delete_file(media_root, relative)
    if old_events:
        session.execute(
            delete(AnalyticsEvent).where(
                AnalyticsEvent.id.in_([event_id for event_id, _ in old_events])
            )
        )
    return Purged(len(old_pictures), len(old_events))


def _delete_file(media_root: Path, relative: str) -> None:
    path = snapshot_file(media_root, relative)
    if path is None:
        return  # gone already, or a path that leads out of the media folder: never deleted
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not delete the old snapshot %s: %s", path, exc)
