"""Shifts, handovers and SLA escalations over HTTP: the OCC's operators and admins only.

A request that does not fit the shift's state (starting one while one is on, ending one
twice, joining an ended one, acknowledging twice) answers 409 and says why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentUser, DbSession, require_role
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.bounds import Id, Paragraph
from safecity.ops.models import Incident
from safecity.ops.shifts import escalation as escalations
from safecity.ops.shifts import service
from safecity.ops.shifts.models import Escalation, Handover, Shift, SlaStage

router = APIRouter(
    prefix="/api",
    tags=["shifts"],
    dependencies=[Depends(require_role(Role.OPERATOR, Role.ADMIN))],
)

SHIFT_NOT_FOUND = "no such shift"
HANDOVER_NOT_FOUND = "no such handover"
ESCALATION_NOT_FOUND = "no such escalation"


class ShiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supervisor_id: Id | None = Field(
        default=None, description="The supervising operator or admin; the caller when empty."
    )


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Paragraph = Field(min_length=1, max_length=10_000, description="For the next shift.")


class OperatorOut(BaseModel):
    user_id: int | None
    username: str
    joined_at: datetime
    left_at: datetime | None


class HandoverOut(BaseModel):
    id: int
    shift_id: int
    next_shift_id: int | None
    written_at: datetime
    written_by: str
    note: str
    open_alerts: list[dict[str, Any]] = Field(
        description=f"The alerts open when the shift ended: the first {service.HANDOVER_LIST} "
        "by priority, then id."
    )
    open_alert_count: int = Field(
        description="How many alerts were open then; the full current list: "
        "GET /api/alerts?status=new&status=acknowledged."
    )
    open_incidents: list[dict[str, Any]] = Field(
        description=f"The incidents open when the shift ended: the first {service.HANDOVER_LIST} "
        "by priority, then id."
    )
    open_incident_count: int = Field(
        description="How many incidents were open then; the full current list: GET "
        "/api/incidents?status=new&status=dispatched&status=accepted&status=on_scene."
    )
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class WatchedOut(BaseModel):
    user_id: int | None
    username: str
    camera_id: int
    camera_code: str | None
    how: str = Field(description="live, playback or clip")
    times: int
    first_at: datetime
    last_at: datetime


class ShiftOut(BaseModel):
    id: int
    started_at: datetime
    ended_at: datetime | None
    supervisor_id: int | None
    supervisor: str
    started_by: str


class ShiftDetailOut(ShiftOut):
    operators: list[OperatorOut]
    received_handover: HandoverOut | None = Field(
        description="What the previous shift handed over to this one."
    )
    handover: HandoverOut | None = Field(description="What this shift handed over (once ended).")
    watched: list[WatchedOut] = Field(description="Who watched which cameras, from the audit log.")


class ShiftPage(BaseModel):
    shifts: list[ShiftOut]
    next_before: int | None = Field(description="Pass as ?before= for the next (older) page.")


class EscalationOut(BaseModel):
    id: int
    stage: SlaStage
    alert_id: int | None
    incident_id: int | None
    number: str | None
    priority: int
    due_at: datetime
    threshold_seconds: float
    escalated_at: datetime
    shift_id: int | None
    supervisor_id: int | None
    sent_to: str = Field(description='The supervisor\'s user name, or "no shift on".')
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def _conflict(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=str(exc))


def _shift(session: Session, shift_id: int) -> Shift:
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=SHIFT_NOT_FOUND)
    return shift


def _shift_fields(shift: Shift) -> dict[str, Any]:
    return {name: getattr(shift, name) for name in ShiftOut.model_fields}


def _handover_out(handover: Handover | None) -> HandoverOut | None:
    return HandoverOut.model_validate(handover, from_attributes=True) if handover else None


def _detail(session: Session, shift: Shift) -> ShiftDetailOut:
    received = session.scalars(select(Handover).where(Handover.next_shift_id == shift.id)).first()
    return ShiftDetailOut.model_validate(
        {
            **_shift_fields(shift),
            "operators": [
                OperatorOut.model_validate(op, from_attributes=True) for op in shift.operators
            ],
            "received_handover": _handover_out(received),
            "handover": _handover_out(shift.handover),
            "watched": [
                WatchedOut.model_validate(w, from_attributes=True)
                for w in service.watched_cameras(session, shift)
            ],
        }
    )


@router.get("/shifts/current", response_model=ShiftDetailOut | None)
def current(session: DbSession) -> ShiftDetailOut | None:
    """The shift on now, or null when none is."""
    shift = service.current_shift(session)
    return _detail(session, shift) if shift else None


@router.post("/shifts", response_model=ShiftDetailOut, status_code=status.HTTP_201_CREATED)
def start(body: ShiftIn, session: DbSession, user: CurrentUser) -> ShiftDetailOut:
    """Start a shift (409 while one is on); the caller joins it and it takes over the last
    shift's handover."""
    supervisor: User | None = None
    if body.supervisor_id is not None:
        supervisor = session.get(User, body.supervisor_id)
        if supervisor is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"no user {body.supervisor_id}"
            )
    try:
        shift = service.start_shift(session, user, supervisor=supervisor)
    except service.ShiftError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    except service.ShiftConflict as exc:
        raise _conflict(exc) from exc
    return _detail(session, shift)


@router.get("/shifts", response_model=ShiftPage)
def history(
    session: DbSession,
    before: Annotated[Id | None, Query(description="Shifts older than this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ShiftPage:
    """Past and present shifts, the latest first."""
    query = select(Shift).order_by(Shift.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(Shift.id < before)
    found = list(session.scalars(query))
    page = found[:limit]
    return ShiftPage(
        shifts=[ShiftOut.model_validate(_shift_fields(shift)) for shift in page],
        next_before=page[-1].id if len(found) > limit else None,
    )


@router.get("/shifts/{shift_id}", response_model=ShiftDetailOut)
def get_shift(shift_id: Id, session: DbSession) -> ShiftDetailOut:
    return _detail(session, _shift(session, shift_id))


@router.post("/shifts/{shift_id}/join", response_model=ShiftDetailOut)
def join(shift_id: Id, session: DbSession, user: CurrentUser) -> ShiftDetailOut:
    shift = _shift(session, shift_id)
    try:
        service.join_shift(session, shift, user)
    except service.ShiftConflict as exc:
        raise _conflict(exc) from exc
    return _detail(session, shift)


@router.post("/shifts/{shift_id}/leave", response_model=ShiftDetailOut)
def leave(shift_id: Id, session: DbSession, user: CurrentUser) -> ShiftDetailOut:
    shift = _shift(session, shift_id)
    try:
        service.leave_shift(session, shift, user)
    except service.ShiftConflict as exc:
        raise _conflict(exc) from exc
    return _detail(session, shift)


@router.post("/shifts/{shift_id}/end", response_model=ShiftDetailOut)
def end(shift_id: Id, body: EndIn, session: DbSession, user: CurrentUser) -> ShiftDetailOut:
    """End the shift (its supervisor or an admin) with a handover note; the open alerts and
    incidents (counts, and the first 200 of each by priority) go in the handover and are
    carried over to the next shift."""
    shift = _shift(session, shift_id)
    try:
        service.end_shift(session, shift, user, body.note)
    except service.ShiftError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    except service.ShiftConflict as exc:
        raise _conflict(exc) from exc
    except service.NotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    return _detail(session, shift)


@router.post("/handovers/{handover_id}/acknowledge", response_model=HandoverOut)
def acknowledge_handover(handover_id: Id, session: DbSession, user: CurrentUser) -> HandoverOut:
    """The incoming supervisor (or an admin) confirms the handover."""
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=HANDOVER_NOT_FOUND)
    try:
        service.acknowledge_handover(session, handover, user)
    except service.ShiftConflict as exc:
        raise _conflict(exc) from exc
    except service.NotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    return HandoverOut.model_validate(handover, from_attributes=True)


def _escalation_out(escalation: Escalation, number: str | None) -> EscalationOut:
    return EscalationOut.model_validate(
        {
            **{
                name: getattr(escalation, name)
                for name in EscalationOut.model_fields
                if name not in {"number", "sent_to"}
            },
            "number": number,
            "sent_to": escalation.supervisor or escalations.NO_SHIFT,
        }
    )


@router.get("/escalations", response_model=list[EscalationOut])
def open_escalations(
    session: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[EscalationOut]:
    """Escalations nobody has acknowledged yet, the latest first."""
    rows = session.execute(
        select(Escalation, Incident.number)
        .outerjoin(Incident, Incident.id == Escalation.incident_id)
        .where(Escalation.acknowledged_at.is_(None))
        .order_by(Escalation.escalated_at.desc(), Escalation.id.desc())
        .limit(limit)
    ).all()
    return [_escalation_out(escalation, number) for escalation, number in rows]


@router.post("/escalations/{escalation_id}/acknowledge", response_model=EscalationOut)
def acknowledge_escalation(
    escalation_id: Id, session: DbSession, user: CurrentUser
) -> EscalationOut:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=ESCALATION_NOT_FOUND)
    try:
        escalations.acknowledge(session, escalation, user)
    except escalations.EscalationConflict as exc:
        raise _conflict(exc) from exc
    number = (
        session.scalar(select(Incident.number).where(Incident.id == escalation.incident_id))
        if escalation.incident_id is not None
        else None
    )
    return _escalation_out(escalation, number)
