"""Opening incidents, moving them through the lifecycle, notes and SOP steps.

Every transition, note and SOP step is an ``IncidentEvent`` and an audit row in the same
transaction, so the history and the chain agree.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.auth.roles import Role, Scope
from safecity.city.models import Camera, PoliceUnit
from safecity.core.clock import utcnow
from safecity.ops.alerts.intake import OPEN_STATUSES
from safecity.ops.dispatch.notices import enqueue_incident_notice
from safecity.ops.dispatch.routing import NoUnit, district_at, route
from safecity.ops.incident_types import valid_priority
from safecity.ops.incident_types.store import type_for_new_incident
from safecity.ops.incidents.lifecycle import IncidentStatus, check_transition
from safecity.ops.models import Alert, AlertStatus, Incident, IncidentEvent, IncidentEventKind
from safecity.store.counters import next_value
from safecity.store.locks import lock_row

_TIMESTAMP = {
    IncidentStatus.DISPATCHED: "dispatched_at",
    IncidentStatus.ACCEPTED: "accepted_at",
    IncidentStatus.ON_SCENE: "on_scene_at",
    IncidentStatus.RESOLVED: "resolved_at",
    IncidentStatus.CLOSED: "closed_at",
}


class IncidentError(ValueError):
    """A request that cannot be met as given (answered 422)."""


class StepState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class SopStep:
    index: int
    text: str
    state: StepState
    by: str | None
    at: datetime | None
    reason: str | None


def incident_condition(scope: Scope, user: User) -> ColumnElement[bool]:
    """Incidents a user may see: all for city-wide roles; a duty officer their unit's queue;
    an akimat its districts'."""
    if scope.city_wide:
        return true()
    if user.role is Role.POLICE_DUTY_OFFICER:
        if user.police_unit_id is None:
            return false()
        return Incident.police_unit_id == user.police_unit_id
    if scope.district_ids:
        return Incident.district_id.in_(sorted(scope.district_ids))
    return false()


def _next_number(session: Session, now: datetime) -> str:
    """The year's next number, from its counter (its row stays locked until this transaction
    ends, so two operators never get the same one). A year's counter starts after the last
    number stored for that year."""
    prefix = f"{now.year}-"

    def after_last_stored() -> int:
        last = session.scalar(
            select(func.max(Incident.number)).where(Incident.number.like(f"{prefix}%"))
        )
        return int(last.removeprefix(prefix)) + 1 if last else 1

    sequence = next_value(session, f"incident-number:{now.year}", first=after_last_stored)
    return f"{prefix}{sequence:06d}"


def _event(
    session: Session,
    incident: Incident,
    actor: User,
    kind: IncidentEventKind,
    *,
    at: datetime,
    action: str,
    from_status: IncidentStatus | None = None,
    to_status: IncidentStatus | None = None,
    text: str | None = None,
    details: dict[str, object] | None = None,
) -> IncidentEvent:
    event = IncidentEvent(
        incident_id=incident.id,
        at=at,
        actor=actor.username,
        actor_id=actor.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        text=text,
        details=dict(details or {}),
    )
    session.add(event)
    session.flush()
    audit(
        session,
        action=action,
        actor=actor.username,
        actor_id=actor.id,
        target=f"incident:{incident.number}",
        details={
            "from": from_status.value if from_status else None,
            "to": to_status.value if to_status else None,
            "text": text,
            **(details or {}),
        },
    )
    return event


def open_incident(
    session: Session,
    actor: User,
    *,
    type_code: str,
    alert_ids: Sequence[int] = (),
    latitude: float | None = None,
    longitude: float | None = None,
    camera_ids: Sequence[int] = (),
    priority: int | None = None,
    summary: str | None = None,
    now: datetime | None = None,
) -> Incident:
    """Open an incident from open alerts (located at the first alert's camera or position) or
    by hand at a map point. Linked alerts are acknowledged (if they were not) and marked
    ``in_incident``. The incident keeps the type's current checklist version for good."""
    now = now or utcnow()
    kind = type_for_new_incident(session, type_code)
    if priority is not None and not valid_priority(priority):
        raise IncidentError("priority must be 1 (most urgent) to 4")
    alerts: list[Alert] = []
    if alert_ids:
        alerts = list(session.scalars(select(Alert).where(Alert.id.in_(alert_ids))))
        missing = sorted(set(alert_ids) - {alert.id for alert in alerts})
        if missing:
            raise IncidentError(f"no alert {', '.join(map(str, missing))}")
        closed = [alert.id for alert in alerts if alert.status not in OPEN_STATUSES]
        if closed:
            raise IncidentError(f"alert {', '.join(map(str, closed))} is already handled")
        alerts.sort(key=lambda alert: alert.first_at)
    camera_set = list(dict.fromkeys([*camera_ids, *(a.camera_id for a in alerts if a.camera_id)]))
    cameras = list(session.scalars(select(Camera).where(Camera.id.in_(camera_set))))
    if len(cameras) != len(camera_set):
        missing = sorted(set(camera_set) - {camera.id for camera in cameras})
        raise IncidentError(f"no camera {', '.join(map(str, missing))}")
    if latitude is None or longitude is None:
        located = next((a for a in alerts if a.latitude is not None), None)
        if located is not None and located.latitude is not None and located.longitude is not None:
            latitude, longitude = located.latitude, located.longitude
        elif cameras:
            latitude, longitude = cameras[0].latitude, cameras[0].longitude
        else:
            raise IncidentError("give a location: a map point, a camera or a located alert")
    incident = Incident(
        number=_next_number(session, now),
        type_code=kind.code,
        checklist=kind.checklist,
        priority=priority or min([kind.default_priority, *(a.priority for a in alerts)]),
        status=IncidentStatus.NEW,
        latitude=latitude,
        longitude=longitude,
        district_id=district_at(session, latitude, longitude),
        opened_by_id=actor.id,
        opened_by=actor.username,
        opened_at=now,
        summary=summary,
        cameras=cameras,
    )
    session.add(incident)
    session.flush()
    for alert in alerts:
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by_id = now, actor.id
        alert.status = AlertStatus.IN_INCIDENT
        alert.incident_id = incident.id
    _event(
        session,
        incident,
        actor,
        IncidentEventKind.TRANSITION,
        at=now,
        action="incident.open",
        to_status=IncidentStatus.NEW,
        details={"type": kind.code, "alert_ids": [a.id for a in alerts]},
    )
    return incident


def transition(
    session: Session,
    incident: Incident,
    actor: User,
    target: IncidentStatus,
    *,
    reason: str | None = None,
    police_unit_id: int | None = None,
    now: datetime | None = None,
) -> IncidentEvent:
    """Move the incident; raises the lifecycle's NotAllowed, Forbidden or ReasonRequired.

    Dispatch routes to the unit covering the location unless ``police_unit_id`` names one; a
    rejection takes the incident out of the unit's queue and back to the OCC.
    """
    now = now or utcnow()
    # Two people moving one incident at once (two operators dispatching, an officer accepting
    # as the OCC closes): the second waits here, then judges against what the first committed.
    # Only movers of this incident wait: the lock is its row's.
    lock_row(session, incident)
    source = incident.status
    made = check_transition(
        source,
        target,
        actor.role,
        officer_of_assigned_unit=(
            actor.police_unit_id is not None and actor.police_unit_id == incident.police_unit_id
        ),
        reason=reason,
    )
    details: dict[str, object] = {"transition": made.name}
    if target is IncidentStatus.DISPATCHED:
        if police_unit_id is not None and session.get(PoliceUnit, police_unit_id) is None:
            raise NoUnit(f"no police unit {police_unit_id}")
        if police_unit_id is None:
            found = route(
                session, incident.latitude, incident.longitude, district_id=incident.district_id
            )
            police_unit_id = found.police_unit_id
            details["fallback"] = found.fallback
        incident.police_unit_id = police_unit_id
        details["police_unit_id"] = police_unit_id
    elif made.name == "reject":
        details["police_unit_id"] = incident.police_unit_id
        incident.police_unit_id = None
    incident.status = target
    column = _TIMESTAMP.get(target)
    if column is not None and getattr(incident, column) is None:
        setattr(incident, column, now)
    event = _event(
        session,
        incident,
        actor,
        IncidentEventKind.TRANSITION,
        at=now,
        action="incident.transition",
        from_status=source,
        to_status=target,
        text=reason,
        details=details,
    )
    # In this transaction: the unit's notice commits (or not) with the transition itself.
    enqueue_incident_notice(session, incident, event)
    return event


def add_note(
    session: Session, incident: Incident, actor: User, text: str, *, now: datetime | None = None
) -> IncidentEvent:
    if not text.strip():
        raise IncidentError("a note needs text")
    return _event(
        session,
        incident,
        actor,
        IncidentEventKind.NOTE,
        at=now or utcnow(),
        action="incident.note",
        text=text,
    )


def mark_step(
    session: Session,
    incident: Incident,
    actor: User,
    step: int,
    state: StepState,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> IncidentEvent:
    """Record an SOP step of the incident's own checklist version as done or skipped
    (skipping needs a reason)."""
    steps = incident.checklist.steps
    if not 0 <= step < len(steps):
        raise IncidentError(f"the {incident.type_code} procedure has steps 0–{len(steps) - 1}")
    if state is StepState.PENDING:
        raise IncidentError("a step is marked done or skipped")
    if state is StepState.SKIPPED and not (reason and reason.strip()):
        raise IncidentError("skipping a step needs a reason")
    return _event(
        session,
        incident,
        actor,
        IncidentEventKind.SOP_STEP,
        at=now or utcnow(),
        action="incident.sop_step",
        text=reason,
        details={"step": step, "state": state.value},
    )


def sop_state(incident: Incident, events: Sequence[IncidentEvent]) -> list[SopStep]:
    """The checklist the incident was opened with, each step with its latest mark."""
    latest: dict[int, IncidentEvent] = {}
    for event in events:
        if event.kind is IncidentEventKind.SOP_STEP:
            latest[int(str(event.details["step"]))] = event
    result = []
    for index, text in enumerate(incident.checklist.steps):
        mark = latest.get(index)
        result.append(
            SopStep(
                index=index,
                text=text,
                state=StepState(str(mark.details["state"])) if mark else StepState.PENDING,
                by=mark.actor if mark else None,
                at=mark.at if mark else None,
                reason=mark.text if mark else None,
            )
        )
    return result
