"""Analytics events as stored: recorded as the rules raise them, searched (forensic search)
within the caller's scope, and their snapshots found in the media folder.

An event is scoped like its camera: a caller sees the events of the cameras they may see
(``auth.scope.camera_condition``), whatever filters they send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, get_args

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from safecity.analytics.models import AnalyticsEvent
from safecity.analytics.objects import Box, ObjectClass
from safecity.analytics.rules.definitions import RuleKind
from safecity.auth.roles import Scope
from safecity.auth.scope import camera_condition
from safecity.bounds import details_problem
from safecity.city.models import Camera

RULE_KINDS: frozenset[str] = frozenset(get_args(RuleKind))
MAX_SNAPSHOT_PATH = 300


class EventError(ValueError):
    """An event that cannot be stored as given (the message says why)."""


def snapshot_problem(relative: str) -> str | None:
    """Why ``relative`` cannot name a snapshot inside the media folder, or None when it can:
    a relative POSIX path, no ``..``, no backslash, not empty."""
    if not relative or len(relative) > MAX_SNAPSHOT_PATH:
        return f"a snapshot path is 1 to {MAX_SNAPSHOT_PATH} characters"
    if "\\" in relative or "\x00" in relative:
        return "a snapshot path has no backslashes or NUL characters"
    path = PurePosixPath(relative)
    if path.is_absolute():
        return "a snapshot path is relative to the media folder, not absolute"
    if ".." in path.parts:
        return "a snapshot path may not climb out of the media folder (..)"
    return None


def snapshot_file(media_root: Path, relative: str) -> Path | None:
    """The snapshot's file, if ``relative`` names a file inside ``media_root``; None when it
    names nothing there or would lead outside it (a link out of the folder included)."""
    if snapshot_problem(relative) is not None:
        return None
    root = media_root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def record_event(
    session: Session,
    *,
    camera_id: int,
    at: datetime,
    started_at: datetime,
    rule_name: str,
    kind: str,
    confidence: float,
    boxes: Sequence[Box],
    frame_size: tuple[int, int],
    clip_start: datetime,
    clip_end: datetime,
    rule_id: int | None = None,
    object_class: ObjectClass | None = None,
    track_id: int | None = None,
    snapshot: str | None = None,
    details: dict[str, Any] | None = None,
) -> AnalyticsEvent:
    """Store one event of ``camera_id``, with the camera's site and district as they are now.
    Raises :class:`EventError` for an event that makes no sense (an unknown camera or kind, a
    clip that ends before it starts, a snapshot outside the media folder…)."""
    problem = _problem(
        kind, confidence, frame_size, at, started_at, clip_start, clip_end, snapshot, details
    )
    if problem is not None:
        raise EventError(problem)
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise EventError(f"no camera {camera_id}")
    event = AnalyticsEvent(
        camera_id=camera.id,
        site_id=camera.site_id,
        district_id=camera.district_id,
        at=at,
        started_at=started_at,
        rule_id=rule_id,
        rule_name=rule_name,
        kind=kind,
        object_class=None if object_class is None else ObjectClass(object_class).value,
        track_id=track_id,
        confidence=confidence,
        boxes=[box.as_list() for box in boxes],
        frame_size=list(frame_size),
        snapshot=snapshot,
        clip_start=clip_start,
        clip_end=clip_end,
        details=dict(details or {}),
    )
    session.add(event)
    session.flush()
    return event


def _problem(
    kind: str,
    confidence: float,
    frame_size: tuple[int, int],
    at: datetime,
    started_at: datetime,
    clip_start: datetime,
    clip_end: datetime,
    snapshot: str | None,
    details: dict[str, Any] | None,
) -> str | None:
    if kind not in RULE_KINDS:
        return f"unknown kind {kind!r}; one of {', '.join(sorted(RULE_KINDS))}"
    if not 0 <= confidence <= 1:
        return "confidence is 0 to 1"
    if len(frame_size) != 2 or min(frame_size) <= 0:
        return "frame_size is [width, height], both above 0"
    if started_at > at:
        return "started_at comes after at"
    if clip_end < clip_start:
        return "the clip ends before it starts"
    if snapshot is not None and (problem := snapshot_problem(snapshot)):
        return problem
    if details and (problem := details_problem(details)):
        return f"details: {problem}"
    return None


@dataclass(frozen=True)
class EventFilters:
    """What forensic search asks for; every part narrows, none widens the caller's scope."""

    since: datetime | None = None
    until: datetime | None = None
    """Events at or after ``since`` and before ``until``."""
    camera_ids: Sequence[int] = ()
    site_ids: Sequence[int] = ()
    district_ids: Sequence[int] = ()
    kinds: Sequence[str] = ()
    object_classes: Sequence[str] = ()
    rule_ids: Sequence[int] = ()
    rule_names: Sequence[str] = ()


@dataclass(frozen=True)
class EventPage:
    events: list[AnalyticsEvent]
    more: bool = field(default=False)
    """More events match, after the last of these."""


def visible_events(scope: Scope) -> Select[AnalyticsEvent]:
    """Events of the cameras ``scope`` sees, their camera and site loaded."""
    return (
        select(AnalyticsEvent)
        .join(AnalyticsEvent.camera)
        .where(camera_condition(scope))
        .options(contains_eager(AnalyticsEvent.camera), joinedload(AnalyticsEvent.site))
    )


def visible_event(session: Session, scope: Scope, event_id: int) -> AnalyticsEvent | None:
    return session.scalar(visible_events(scope).where(AnalyticsEvent.id == event_id))


def search_events(
    session: Session,
    filters: EventFilters,
    scope: Scope,
    *,
    limit: int = 100,
    after: tuple[datetime, int] | None = None,
) -> EventPage:
    """The newest events first (by time, then id) that match ``filters`` within ``scope``;
    ``after`` is the (at, id) of the last event of the previous page."""
    query = visible_events(scope)
    if filters.since is not None:
        query = query.where(AnalyticsEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AnalyticsEvent.at < filters.until)
    for column, wanted in (
        (AnalyticsEvent.camera_id, filters.camera_ids),
        (AnalyticsEvent.site_id, filters.site_ids),
        (AnalyticsEvent.district_id, filters.district_ids),
        (AnalyticsEvent.kind, filters.kinds),
        (AnalyticsEvent.object_class, filters.object_classes),
        (AnalyticsEvent.rule_id, filters.rule_ids),
        (AnalyticsEvent.rule_name, filters.rule_names),
    ):
        if wanted:
            query = query.where(column.in_(sorted(set(wanted))))
    if after is not None:
        at, event_id = after
        query = query.where(
            or_(
                AnalyticsEvent.at < at,
                and_(AnalyticsEvent.at == at, AnalyticsEvent.id < event_id),
            )
        )
    query = query.order_by(AnalyticsEvent.at.desc(), AnalyticsEvent.id.desc()).limit(limit + 1)
    events = list(session.scalars(query))
    return EventPage(events[:limit], more=len(events) > limit)
