"""Incidents over HTTP: opened from alerts or by hand, moved through their lifecycle, noted
and worked through their procedure.

Cut to what the caller may see: an incident outside it answers 404 exactly like a missing one.
A role that may not act answers 403; a transition the lifecycle does not have answers 409 and
names the ones it does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from sqlalchemy import func, select

from safecity.api import paging
from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.auth.roles import OCC_ROLES, Role
from safecity.bounds import Id, Moment
from safecity.ops.alerts.scoped import visible_alert
from safecity.ops.dispatch.routing import NoUnit
from safecity.ops.incident_types import RetiredIncidentType, UnknownIncidentType
from safecity.ops.incidents import service, sla
from safecity.ops.incidents.lifecycle import Forbidden, IncidentStatus, NotAllowed, ReasonRequired
from safecity.ops.incidents.schemas import (
    EventOut,
    IncidentDetailOut,
    IncidentIn,
    IncidentOut,
    NoteIn,
    SlaOut,
    StepIn,
    TransitionIn,
    incident_detail,
    incident_out,
)
from safecity.ops.incidents.scoped import ScopedIncident, visible_incident
from safecity.ops.models import Alert, Incident

router = APIRouter(prefix="/api", tags=["operations"])


def _unprocessable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc))


@router.post(
    "/incidents",
    response_model=IncidentDetailOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_role(*OCC_ROLES))],
)
def create_incident(
    body: IncidentIn, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> IncidentDetailOut:
    """Open an incident from alerts ({alert_ids}) or by hand ({type_code, latitude,
    longitude, camera_ids?, summary})."""
    for alert_id in body.alert_ids:
        visible_alert(session, scope, alert_id)
    try:
        incident = service.open_incident(session, user, **body.model_dump())
    except (service.IncidentError, UnknownIncidentType, RetiredIncidentType) as exc:
        raise _unprocessable(exc) from exc
    return incident_detail(session, incident)


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(
    response: Response,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
    incident_status: Annotated[list[IncidentStatus] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: paging.Cursor = None,
) -> list[IncidentOut]:
    """Incidents the caller may see, the most urgent and latest first; for a duty officer,
    their unit's queue. When more remain, X-Next-Cursor holds the next page's cursor."""
    query = select(Incident).where(service.incident_condition(scope, user))
    if incident_status:
        query = query.where(Incident.status.in_(incident_status))
    if before is not None:
        query = query.where(
            paging.after(before, Incident.priority, Incident.opened_at, Incident.id)
        )
    query = query.order_by(Incident.priority, Incident.opened_at.desc(), Incident.id.desc()).limit(
        limit + 1
    )
    incidents = list(session.scalars(query))
    if len(incidents) > limit:
        last = incidents[limit - 1]
        paging.announce_next(response, paging.encode(last.priority, last.opened_at, last.id))
    return [incident_out(incident) for incident in incidents[:limit]]


@router.get("/incidents/sla", response_model=SlaOut)
def incident_sla(
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
    since: Annotated[Moment | None, Query(description="Opened at or after.")] = None,
    until: Annotated[Moment | None, Query(description="Opened before.")] = None,
) -> SlaOut:
    """P50/P90 seconds to acknowledge, dispatch, accept and arrive, over the incidents the
    caller may see that were opened in [since, until)."""
    alerts = (
        select(
            Alert.incident_id.label("incident_id"),
            func.min(Alert.first_at).label("first_alert_at"),
            func.min(Alert.acknowledged_at).label("acknowledged_at"),
        )
        .where(Alert.incident_id.is_not(None))
        .group_by(Alert.incident_id)
        .subquery()
    )
    query = (
        select(
            Incident.opened_at,
            alerts.c.first_alert_at,
            alerts.c.acknowledged_at,
            Incident.dispatched_at,
            Incident.accepted_at,
            Incident.on_scene_at,
        )
        .outerjoin(alerts, alerts.c.incident_id == Incident.id)
        .where(service.incident_condition(scope, user))
    )
    if since is not None:
        query = query.where(Incident.opened_at >= since)
    if until is not None:
        query = query.where(Incident.opened_at < until)
    times = [sla.IncidentTimes(*row) for row in session.execute(query)]
    return SlaOut(since=since, until=until, incidents=len(times), stages=sla.figures(times))


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut)
def get_incident(incident: ScopedIncident, session: DbSession) -> IncidentDetailOut:
    return incident_detail(session, incident)


@router.post("/incidents/{incident_id}/transitions", response_model=IncidentDetailOut)
def make_transition(
    incident: ScopedIncident, body: TransitionIn, session: DbSession, user: CurrentUser
) -> IncidentDetailOut:
    try:
        service.transition(
            session,
            incident,
            user,
            body.to,
            reason=body.reason,
            police_unit_id=body.police_unit_id,
        )
    except NotAllowed as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"message": str(exc), "allowed": [s.value for s in exc.allowed]},
        ) from exc
    except Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    except (ReasonRequired, NoUnit) as exc:
        raise _unprocessable(exc) from exc
    return incident_detail(session, incident)


@router.post(
    "/incidents/{incident_id}/notes",
    response_model=EventOut,
    status_code=status.HTTP_201_CREATED,
)
def add_note(
    incident: ScopedIncident, body: NoteIn, session: DbSession, user: CurrentUser
) -> EventOut:
    if user.role not in (*OCC_ROLES, Role.POLICE_DUTY_OFFICER):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="your role may not do this")
    try:
        event = service.add_note(session, incident, user, body.text)
    except service.IncidentError as exc:
        raise _unprocessable(exc) from exc
    return EventOut.model_validate(event, from_attributes=True)


@router.post(
    "/incidents/{incident_id}/sop/{step}",
    response_model=EventOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_role(*OCC_ROLES))],
)
def mark_sop_step(
    incident_id: Id,
    step: int,
    body: StepIn,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
) -> EventOut:
    """Mark a step of the incident type's procedure done or skipped (with a reason)."""
    # The incident's id, not a ScopedIncident: a dependency's path parameter is listed after
    # the endpoint's own in the OpenAPI document, and this keeps the path's order.
    incident = visible_incident(session, scope, user, incident_id)
    try:
        event = service.mark_step(session, incident, user, step, body.state, reason=body.reason)
    except service.IncidentError as exc:
        raise _unprocessable(exc) from exc
    return EventOut.model_validate(event, from_attributes=True)
