"""Operator shifts: starting, joining, leaving and ending one, the handover it leaves, and who
watched which cameras while it was on.

At most one shift is on at a time. Every change takes the shifts' turn (a lock of their own,
``SHIFTS_LOCK``) before it reads the shift's state, so two operators starting a shift at once,
or ending the same shift twice, are serialized and the second one is refused; alerts and
incidents do not wait for it.

A handover keeps the counts of what was open and the first ``HANDOVER_LIST`` alerts and
incidents by priority (the most urgent first, then the oldest); the full current lists are the
alerts and incidents APIs (``GET /api/alerts?status=new&status=acknowledged``, ``GET
/api/incidents?status=new&status=dispatched&status=accepted&status=on_scene``). A city with
tens of thousands of open alerts then still ends a shift quickly, with a small handover and
audit row.

"Who watched what" is not stored again: it is read from the audit log's ``video.*`` rows of
the people on the shift, within the time each of them was on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.audit.models import AuditEntry
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.city.models import Camera
from safecity.core.clock import utcnow
from safecity.ops.alerts.intake import OPEN_STATUSES
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Alert, Incident
from safecity.ops.shifts.models import Handover, Shift, ShiftOperator
from safecity.store.locks import hold_key_lock

SHIFT_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
"""Who works shifts, and who may supervise one."""

CLOSED_INCIDENT = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)

HANDOVER_LIST = 200
"""At most this many alerts, and this many incidents, are listed in a handover (with counts)."""

WATCH_ACTIONS = {"video.live": "live", "video.playback": "playback", "video.clip": "clip"}
"""Audit actions that are someone watching a camera, and how the shift report names them."""


class ShiftError(ValueError):
    """A request that cannot be met as given (answered 422)."""


class ShiftConflict(Exception):
    """The request does not fit the shift's state: one is already on, it has ended… (409)."""


class NotAllowed(Exception):
    """The user's part in the shift does not let them do this (403)."""


@dataclass(frozen=True)
class Watched:
    """One user's viewings of one camera, in one way, during a shift."""

    user_id: int | None
    username: str
    camera_id: int
    camera_code: str | None
    how: str
    times: int
    first_at: datetime
    last_at: datetime


def current_shift(session: Session) -> Shift | None:
    return session.scalars(
        select(Shift).where(Shift.ended_at.is_(None)).order_by(Shift.id.desc()).limit(1)
    ).first()


def _audit(
    session: Session, actor: User, action: str, target: str, details: dict[str, Any]
) -> None:
    audit(
        session,
        action=action,
        actor=actor.username,
        actor_id=actor.id,
        target=target,
        details=details,
    )


def _on_shift(shift: Shift, user: User) -> ShiftOperator | None:
    return next(
        (op for op in shift.operators if op.user_id == user.id and op.left_at is None), None
    )


SHIFTS_LOCK = "ops:shifts"
"""Shifts start, end, change hands and are handed over one at a time (one shift is on)."""


def _take_turn(session: Session) -> None:
    hold_key_lock(session, SHIFTS_LOCK)


def _locked(session: Session, shift: Shift) -> Shift:
    """The shift as committed now, read in the shifts' turn."""
    _take_turn(session)
    session.refresh(shift)
    return shift


def start_shift(
    session: Session, actor: User, *, supervisor: User | None = None, now: datetime | None = None
) -> Shift:
    """Start a shift supervised by ``supervisor`` (the actor when not given); the actor joins
    it. The handover the last shift left, if any, is carried over to this one."""
    now = now or utcnow()
    supervisor = supervisor or actor
    if supervisor.role not in SHIFT_ROLES or not supervisor.is_active:
        raise ShiftError(f"{supervisor.username} cannot supervise: an active operator or admin")
    _take_turn(session)
    running = current_shift(session)
    if running is not None:
        raise ShiftConflict(
            f"shift {running.id} (supervisor {running.supervisor}) is on; end it first"
        )
    shift = Shift(
        started_at=now,
        supervisor_id=supervisor.id,
        supervisor=supervisor.username,
        started_by=actor.username,
    )
    session.add(shift)
    session.flush()
    session.add(
        ShiftOperator(shift_id=shift.id, user_id=actor.id, username=actor.username, joined_at=now)
    )
    pending = session.scalars(
        select(Handover).where(Handover.next_shift_id.is_(None)).order_by(Handover.id.desc())
    ).first()
    if pending is not None:
        pending.next_shift_id = shift.id
    session.flush()
    session.refresh(shift)
    _audit(
        session,
        actor,
        "shift.start",
        f"shift:{shift.id}",
        {
            "supervisor": supervisor.username,
            "handover_id": pending.id if pending is not None else None,
        },
    )
    return shift


def join_shift(
    session: Session, shift: Shift, actor: User, *, now: datetime | None = None
) -> ShiftOperator:
    now = now or utcnow()
    shift = _locked(session, shift)
    if shift.ended_at is not None:
        raise ShiftConflict(f"shift {shift.id} has ended")
    if _on_shift(shift, actor) is not None:
        raise ShiftConflict(f"{actor.username} is already on shift {shift.id}")
    stretch = ShiftOperator(
        shift_id=shift.id, user_id=actor.id, username=actor.username, joined_at=now
    )
    session.add(stretch)
    session.flush()
    session.refresh(shift)
    _audit(session, actor, "shift.join", f"shift:{shift.id}", {})
    return stretch


def leave_shift(
    session: Session, shift: Shift, actor: User, *, now: datetime | None = None
) -> ShiftOperator:
    now = now or utcnow()
    shift = _locked(session, shift)
    if shift.ended_at is not None:
        raise ShiftConflict(f"shift {shift.id} has ended")
    stretch = _on_shift(shift, actor)
    if stretch is None:
        raise ShiftConflict(f"{actor.username} is not on shift {shift.id}")
    stretch.left_at = now
    session.flush()
    _audit(session, actor, "shift.leave", f"shift:{shift.id}", {})
    return stretch


@dataclass(frozen=True)
class OpenItems:
    """What a handover keeps of the open alerts and incidents: how many, and the first
    ``limit`` of each by priority, then id, as plain data."""

    alerts: list[dict[str, Any]]
    alert_count: int
    incidents: list[dict[str, Any]]
    incident_count: int


def open_items(session: Session, *, limit: int | None = None) -> OpenItems:
    """The alerts still new or acknowledged and the incidents not resolved or closed: their
    counts and the first ``limit`` (``HANDOVER_LIST``) of each: the most urgent, then the
    oldest."""
    limit = HANDOVER_LIST if limit is None else limit
    open_alert = Alert.status.in_(OPEN_STATUSES)
    open_incident = Incident.status.not_in(CLOSED_INCIDENT)
    alerts = session.scalars(
        select(Alert).where(open_alert).order_by(Alert.priority, Alert.id).limit(limit)
    )
    incidents = session.scalars(
        select(Incident).where(open_incident).order_by(Incident.priority, Incident.id).limit(limit)
    )
    return OpenItems(
        alerts=[
            {
                "id": alert.id,
                "kind": alert.kind,
                "title": alert.title,
                "priority": alert.priority,
                "status": alert.status.value,
                "district_id": alert.district_id,
                "first_at": alert.first_at.isoformat(),
            }
            for alert in alerts
        ],
        alert_count=session.scalar(select(func.count()).select_from(Alert).where(open_alert)) or 0,
        incidents=[
            {
                "id": incident.id,
                "number": incident.number,
                "type_code": incident.type_code,
                "priority": incident.priority,
                "status": incident.status.value,
                "district_id": incident.district_id,
                "police_unit_id": incident.police_unit_id,
                "opened_at": incident.opened_at.isoformat(),
            }
            for incident in incidents
        ],
        incident_count=session.scalar(
            select(func.count()).select_from(Incident).where(open_incident)
        )
        or 0,
    )


def end_shift(
    session: Session, shift: Shift, actor: User, note: str, *, now: datetime | None = None
) -> Handover:
    """End the shift (its supervisor or an admin) and write its handover: what is open now
    (counts and the first ``HANDOVER_LIST`` of each), carried over to the next shift, with the
    note."""
    now = now or utcnow()
    if not note.strip():
        raise ShiftError("a handover needs a note for the next shift")
    shift = _locked(session, shift)
    if shift.ended_at is not None:
        raise ShiftConflict(f"shift {shift.id} already ended at {shift.ended_at.isoformat()}")
    if actor.id != shift.supervisor_id and actor.role is not Role.ADMIN:
        raise NotAllowed("only the shift's supervisor (or an admin) ends it")
    shift.ended_at = now
    for stretch in shift.operators:
        if stretch.left_at is None:
            stretch.left_at = now
    items = open_items(session)
    handover = Handover(
        shift_id=shift.id,
        written_at=now,
        written_by_id=actor.id,
        written_by=actor.username,
        note=note.strip(),
        open_alerts=items.alerts,
        open_alert_count=items.alert_count,
        open_incidents=items.incidents,
        open_incident_count=items.incident_count,
    )
    session.add(handover)
    session.flush()
    _audit(
        session,
        actor,
        "shift.end",
        f"shift:{shift.id}",
        {
            "handover_id": handover.id,
            "open_alert_count": items.alert_count,
            "open_incident_count": items.incident_count,
            "open_alert_ids": [item["id"] for item in items.alerts],
            "open_incident_numbers": [item["number"] for item in items.incidents],
        },
    )
    return handover


def acknowledge_handover(
    session: Session, handover: Handover, actor: User, *, now: datetime | None = None
) -> Handover:
    """The incoming supervisor (or an admin) confirms they have taken the handover over."""
    now = now or utcnow()
    _take_turn(session)
    session.refresh(handover)
    if handover.acknowledged_at is not None:
        raise ShiftConflict(
            f"handover {handover.id} was acknowledged by {handover.acknowledged_by}"
        )
    incoming = session.get(Shift, handover.next_shift_id) if handover.next_shift_id else None
    if incoming is None:
        raise ShiftConflict("the next shift has not started: nobody to hand over to yet")
    if actor.id != incoming.supervisor_id and actor.role is not Role.ADMIN:
        raise NotAllowed("only the incoming shift's supervisor (or an admin) acknowledges it")
    handover.acknowledged_at = now
    handover.acknowledged_by_id = actor.id
    handover.acknowledged_by = actor.username
    session.flush()
    _audit(
        session,
        actor,
        "handover.acknowledge",
        f"handover:{handover.id}",
        {"shift_id": handover.shift_id, "next_shift_id": incoming.id},
    )
    return handover


def _windows(shift: Shift, now: datetime) -> list[tuple[str, datetime, datetime]]:
    """Who was on the shift and when: each stretch of each operator, and the supervisor for
    the whole shift."""
    end = shift.ended_at or now
    windows = [(shift.supervisor, shift.started_at, end)]
    windows += [(op.username, op.joined_at, op.left_at or end) for op in shift.operators]
    return windows


def watched_cameras(
    session: Session, shift: Shift, *, now: datetime | None = None
) -> list[Watched]:
    """Per user, camera and way of watching (live, playback, clip): how often and when, from
    the audit log."""
    windows = _windows(shift, now or utcnow())
    during: Sequence[ColumnElement[bool]] = [
        and_(AuditEntry.actor == name, AuditEntry.at >= start, AuditEntry.at <= end)
        for name, start, end in windows
    ]
    rows = session.execute(
        select(
            AuditEntry.actor,
            func.max(AuditEntry.actor_id),
            AuditEntry.action,
            AuditEntry.target,
            func.count(),
            func.min(AuditEntry.at),
            func.max(AuditEntry.at),
        )
        .where(AuditEntry.action.in_(list(WATCH_ACTIONS)), or_(*during))
        .group_by(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
    ).all()
    camera_ids = {_camera_id(row[3]) for row in rows} - {None}
    codes = dict(
        session.execute(select(Camera.id, Camera.code).where(Camera.id.in_(camera_ids))).all()
    )
    report = []
    for actor, actor_id, action, target, times, first_at, last_at in rows:
        camera_id = _camera_id(target)
        if camera_id is None:
            continue
        report.append(
            Watched(
                user_id=actor_id,
                username=actor,
                camera_id=camera_id,
                camera_code=codes.get(camera_id),
                how=WATCH_ACTIONS[action],
                times=times,
                first_at=first_at,
                last_at=last_at,
            )
        )
    report.sort(key=lambda w: (w.username, w.camera_code or "", w.camera_id, w.how))
    return report


def _camera_id(target: str | None) -> int | None:
    kind, _, value = (target or "").partition(":")
    return int(value) if kind == "camera" and value.isdigit() else None
