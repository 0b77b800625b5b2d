"""Alerts and incidents over HTTP.

Cut to the caller's scope: an alert or incident outside it answers 404 exactly like a missing
one. A role that may not act answers 403; a transition the lifecycle does not have answers 409
and names the ones it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.api import paging
from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.errors import problems
from safecity.api.rate_limit import limit_per_source
from safecity.auth.models import User
from safecity.auth.roles import Role, Scope
from safecity.bounds import Details, Id, Latitude, Line, Longitude, Moment, Paragraph
from safecity.city.models import Camera
from safecity.ops.alerts import inbound
from safecity.ops.alerts.grouping import AlertGrouping
from safecity.ops.alerts.intake import AlertError, acknowledge, alert_condition, raise_alert
from safecity.ops.dispatch.routing import NoUnit
from safecity.ops.incident_types import (
    HIGHEST_PRIORITY,
    LOWEST_PRIORITY,
    RetiredIncidentType,
    UnknownIncidentType,
)
from safecity.ops.incidents import service, sla
from safecity.ops.incidents.lifecycle import (
    Forbidden,
    IncidentStatus,
    NotAllowed,
    ReasonRequired,
    allowed_targets,
)
from safecity.ops.models import (
    Alert,
    AlertSource,
    AlertStatus,
    Incident,
    IncidentEvent,
    IncidentEventKind,
)

router = APIRouter(prefix="/api", tags=["operations"])

ALERT_NOT_FOUND = "no such alert, or not yours to see"
INCIDENT_NOT_FOUND = "no such incident, or not yours to see"
OCC = (Role.OPERATOR, Role.ADMIN)

Priority = Annotated[int, Field(ge=HIGHEST_PRIORITY, le=LOWEST_PRIORITY)]


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Line = Field(min_length=1, max_length=64)
    title: Line = Field(min_length=1, max_length=200)
    priority: Priority | None = None
    camera_id: Id | None = None
    site_id: Id | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    details: Details = Field(default_factory=dict)
    dedup_key: Line | None = Field(default=None, max_length=200)


class InboundAlertIn(BaseModel):
    """An alert from an outside system, at one of our cameras (by code) or a map point."""

    model_config = ConfigDict(extra="forbid")

    kind: Line = Field(min_length=1, max_length=64)
    title: Line = Field(min_length=1, max_length=200)
    camera: Line | None = Field(default=None, min_length=1, max_length=64)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    priority: Priority | None = None
    details: Details = Field(default_factory=dict)
    dedup_key: Line | None = Field(default=None, min_length=1, max_length=120)

    @model_validator(mode="after")
    def _located(self) -> InboundAlertIn:
        if self.camera is None and (self.latitude is None or self.longitude is None):
            raise ValueError("give camera (its code) or latitude and longitude")
        return self


class AlertOut(BaseModel):
    id: int
    source: AlertSource
    kind: str
    title: str
    priority: int
    status: AlertStatus
    camera_id: int | None
    site_id: int | None
    district_id: int | None
    latitude: float | None
    longitude: float | None
    details: dict[str, Any]
    count: int
    first_at: datetime
    last_at: datetime
    acknowledged_at: datetime | None
    incident_id: int | None
    group_id: Id | None = Field(
        default=None, description="First alert of the same kind nearby; null: alone."
    )
    group_key: str | None = Field(default=None, description="Same for every alert of a group.")
    merged: bool = Field(default=False, description="Folded into an open alert just now.")


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_ids: list[Id] = Field(default_factory=list, max_length=100)
    type_code: Line = Field(default="other", max_length=64)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    camera_ids: list[Id] = Field(default_factory=list, max_length=100)
    priority: Priority | None = None
    summary: Paragraph | None = Field(default=None, max_length=5000)


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: IncidentStatus
    reason: Paragraph | None = Field(default=None, max_length=2000)
    police_unit_id: Id | None = Field(
        default=None, description="Dispatch to this unit instead of the routed one."
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Paragraph = Field(min_length=1, max_length=5000)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: service.StepState
    reason: Paragraph | None = Field(default=None, max_length=2000)


class IncidentOut(BaseModel):
    id: int
    number: str
    type_code: str
    priority: int
    status: IncidentStatus
    latitude: float
    longitude: float
    district_id: int | None
    police_unit_id: int | None
    opened_by: str
    opened_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    summary: str | None
    camera_ids: list[int]
    allowed: list[IncidentStatus] = Field(description="Statuses the lifecycle allows next.")


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    kind: IncidentEventKind
    from_status: IncidentStatus | None
    to_status: IncidentStatus | None
    text: str | None
    details: dict[str, Any]


class StepOut(BaseModel):
    index: int
    text: str
    state: service.StepState
    by: str | None
    at: datetime | None
    reason: str | None


class IncidentDetailOut(IncidentOut):
    events: list[EventOut]
    sop: list[StepOut] = Field(description="The checklist version the incident was opened with.")
    sop_version: int = Field(description="Which version of its type's checklist that is.")
    alert_ids: list[int]


def alert_out(alert: Alert, *, merged: bool = False) -> AlertOut:
    return AlertOut.model_validate(
        {
            **{name: getattr(alert, name) for name in AlertOut.model_fields if name != "merged"},
            "merged": merged,
        }
    )


def incident_out(incident: Incident) -> IncidentOut:
    return IncidentOut.model_validate(_incident_fields(incident))


def _incident_fields(incident: Incident) -> dict[str, Any]:
    skip = {"camera_ids", "allowed"}
    return {
        **{name: getattr(incident, name) for name in IncidentOut.model_fields if name not in skip},
        "camera_ids": sorted(camera.id for camera in incident.cameras),
        "allowed": allowed_targets(incident.status),
    }


def _incident_detail(session: Session, incident: Incident) -> IncidentDetailOut:
    events = list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        )
    )
    alert_ids = session.scalars(
        select(Alert.id).where(Alert.incident_id == incident.id).order_by(Alert.id)
    )
    return IncidentDetailOut.model_validate(
        {
            **_incident_fields(incident),
            "events": [EventOut.model_validate(e, from_attributes=True) for e in events],
            "sop": [
                StepOut.model_validate(step, from_attributes=True)
                for step in service.sop_state(incident, events)
            ],
            "sop_version": incident.checklist.version,
            "alert_ids": list(alert_ids),
        }
    )


def _visible_alert(session: Session, scope: Scope, alert_id: int) -> Alert:
    alert = session.scalars(
        select(Alert).where(Alert.id == alert_id, alert_condition(scope))
    ).first()
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=ALERT_NOT_FOUND)
    return alert


def _visible_incident(session: Session, scope: Scope, user: User, incident_id: int) -> Incident:
    incident = session.scalars(
        select(Incident).where(Incident.id == incident_id, service.incident_condition(scope, user))
    ).first()
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=INCIDENT_NOT_FOUND)
    return incident


def _grouping(request: Request) -> AlertGrouping:
    return AlertGrouping.from_settings(request.app.state.settings.ops)


def _unprocessable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc))


@router.post(
    "/alerts",
    response_model=AlertOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_role(*OCC))],
)
def create_alert(
    body: AlertIn, request: Request, session: DbSession, user: CurrentUser
) -> AlertOut:
    """A manual alert from an operator (a repeat within a minute is folded into the open one)."""
    try:
        alert, created = raise_alert(
            session,
            source=AlertSource.MANUAL,
            grouping=_grouping(request),
            created_by=user,
            **body.model_dump(),
        )
    except AlertError as exc:
        raise _unprocessable(exc) from exc
    session.commit()  # frees the audit log's lock now (see DbSession)
    return alert_out(alert, merged=not created)


BAD_SIGNATURE = "unknown source, or a bad or stale signature"


MAX_SIGNED_BODY = 256 * 1024
TOO_LARGE = f"the body is over {MAX_SIGNED_BODY // 1024} KiB"


async def signed_body(request: Request, sources: Mapping[str, SecretStr]) -> tuple[str, bytes]:
    """The verified source name and the raw body of a request signed by an outside system, or
    413 for a body over MAX_SIGNED_BODY (read no further: nobody is verified yet) and 401 (the
    same answer for every reason) for an unknown source or a bad or stale signature."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SIGNED_BODY:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SIGNED_BODY:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=TOO_LARGE)
    source = inbound.verified_source(
        sources,
        source=request.headers.get(inbound.SOURCE_HEADER),
        timestamp=request.headers.get(inbound.TIMESTAMP_HEADER),
        signature=request.headers.get(inbound.SIGNATURE_HEADER),
        body=bytes(body),
    )
    if source is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=BAD_SIGNATURE)
    return source, bytes(body)


async def signed_inbound(request: Request) -> tuple[str, bytes]:
    return await signed_body(request, request.app.state.settings.ops.inbound_sources)


@router.post(
    "/alerts/inbound",
    response_model=AlertOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(limit_per_source(signed_inbound, "inbound"))],
)
def inbound_alert(
    signed: Annotated[tuple[str, bytes], Depends(signed_inbound)],
    request: Request,
    session: DbSession,
) -> AlertOut:
    """An alert from an outside system, signed with its shared secret (no user session); see
    docs/ops.md. A repeat within a minute is folded into the open alert like any other."""
    source, raw = signed
    try:
        body = InboundAlertIn.model_validate_json(raw)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=problems(exc.errors()),
        ) from exc
    camera_id: int | None = None
    if body.camera is not None:
        camera_id = session.scalar(select(Camera.id).where(Camera.code == body.camera))
        if camera_id is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"no camera {body.camera!r}"
            )
    actor = f"external:{source}"
    if body.dedup_key is not None:
        dedup_key: str | None = f"{actor}:{body.dedup_key}"
    elif camera_id is None:
        dedup_key = f"{actor}:{body.kind}:{body.latitude:.5f},{body.longitude:.5f}"
    else:
        dedup_key = None  # the camera and kind, as for every other source
    try:
        alert, created = raise_alert(
            session,
            source=AlertSource.EXTERNAL,
            grouping=_grouping(request),
            kind=body.kind,
            title=body.title,
            priority=body.priority,
            camera_id=camera_id,
            latitude=None if camera_id is not None else body.latitude,
            longitude=None if camera_id is not None else body.longitude,
            details={**body.details, "actor": actor},
            dedup_key=dedup_key,
        )
    except AlertError as exc:
        raise _unprocessable(exc) from exc
    session.commit()  # frees the audit log's lock now (see DbSession)
    return alert_out(alert, merged=not created)


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(
    response: Response,
    session: DbSession,
    scope: CurrentScope,
    alert_status: Annotated[list[AlertStatus] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: paging.Cursor = None,
    alert_ids: Annotated[
        list[Id] | None,
        Query(alias="id", max_length=500, description="Only these alerts (e.g. an incident's)."),
    ] = None,
) -> list[AlertOut]:
    """Alerts in the caller's districts, the most urgent and latest first. When more remain,
    the X-Next-Cursor header holds the cursor of the next page."""
    query = select(Alert).where(alert_condition(scope))
    if alert_status:
        query = query.where(Alert.status.in_(alert_status))
    if alert_ids:
        query = query.where(Alert.id.in_(alert_ids))
    if before is not None:
        query = query.where(paging.after(before, Alert.priority, Alert.last_at, Alert.id))
    query = query.order_by(Alert.priority, Alert.last_at.desc(), Alert.id.desc()).limit(limit + 1)
    alerts = list(session.scalars(query))
    if len(alerts) > limit:
        last = alerts[limit - 1]
        paging.announce_next(response, paging.encode(last.priority, last.last_at, last.id))
    return [alert_out(alert) for alert in alerts[:limit]]


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    dependencies=[Depends(require_role(*OCC))],
)
def acknowledge_alert(
    alert_id: Id, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> AlertOut:
    alert = _visible_alert(session, scope, alert_id)
    if not acknowledge(session, alert, user) and alert.status is not AlertStatus.ACKNOWLEDGED:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the alert is {alert.status}")
    return alert_out(alert)


@router.post(
    "/incidents",
    response_model=IncidentDetailOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_role(*OCC))],
)
def create_incident(
    body: IncidentIn, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> IncidentDetailOut:
    """Open an incident from alerts ({alert_ids}) or by hand ({type_code, latitude,
    longitude, camera_ids?, summary})."""
    for alert_id in body.alert_ids:
        _visible_alert(session, scope, alert_id)
    try:
        incident = service.open_incident(session, user, **body.model_dump())
    except (service.IncidentError, UnknownIncidentType, RetiredIncidentType) as exc:
        raise _unprocessable(exc) from exc
    return _incident_detail(session, incident)


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


class SlaOut(BaseModel):
    since: datetime | None
    until: datetime | None
    incidents: int
    stages: list[sla.StageFigures]


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
def get_incident(
    incident_id: Id, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> IncidentDetailOut:
    return _incident_detail(session, _visible_incident(session, scope, user, incident_id))


@router.post("/incidents/{incident_id}/transitions", response_model=IncidentDetailOut)
def make_transition(
    incident_id: Id,
    body: TransitionIn,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
) -> IncidentDetailOut:
    incident = _visible_incident(session, scope, user, incident_id)
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
    return _incident_detail(session, incident)


@router.post(
    "/incidents/{incident_id}/notes",
    response_model=EventOut,
    status_code=status.HTTP_201_CREATED,
)
def add_note(
    incident_id: Id, body: NoteIn, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> EventOut:
    incident = _visible_incident(session, scope, user, incident_id)
    if user.role not in (*OCC, Role.POLICE_DUTY_OFFICER):
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
    dependencies=[Depends(require_role(*OCC))],
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
    incident = _visible_incident(session, scope, user, incident_id)
    try:
        event = service.mark_step(session, incident, user, step, body.state, reason=body.reason)
    except service.IncidentError as exc:
        raise _unprocessable(exc) from exc
    return EventOut.model_validate(event, from_attributes=True)
