"""Alerts over HTTP: raised by an operator, sent in by an outside system (signed), listed and
acknowledged.

Cut to the caller's scope: an alert outside it answers 404 exactly like a missing one. A role
that may not act answers 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import ValidationError
from sqlalchemy import select

from safecity.api import paging
from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.errors import problems
from safecity.api.rate_limit import limit_per_source
from safecity.auth.roles import OCC_ROLES
from safecity.bounds import Id
from safecity.city.models import Camera
from safecity.ops.alerts.grouping import AlertGrouping
from safecity.ops.alerts.intake import AlertError, acknowledge, alert_condition, raise_alert
from safecity.ops.alerts.schemas import AlertIn, AlertOut, InboundAlertIn, alert_out
from safecity.ops.alerts.scoped import ScopedAlert
from safecity.ops.alerts.signed_requests import signed_body
from safecity.ops.models import Alert, AlertSource, AlertStatus

router = APIRouter(prefix="/api", tags=["operations"])


def _grouping(request: Request) -> AlertGrouping:
    return AlertGrouping.from_settings(request.app.state.settings.ops)


def _unprocessable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc))


@router.post(
    "/alerts",
    response_model=AlertOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_role(*OCC_ROLES))],
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
    dependencies=[Depends(require_role(*OCC_ROLES))],
)
def acknowledge_alert(alert: ScopedAlert, session: DbSession, user: CurrentUser) -> AlertOut:
    if not acknowledge(session, alert, user) and alert.status is not AlertStatus.ACKNOWLEDGED:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the alert is {alert.status}")
    return alert_out(alert)
