"""``POST /api/analytics/events``: detection events from an outside analytics box.

The same event as on the bus (ops/analytics_intake.py) plus ``camera`` (its code), signed like
the inbound alert webhook with a secret from ``ops.analytics_sources``, and rate-limited per
source. It takes the same path as the bus: rules, folding, grouping.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field, ValidationError

from safecity.api.deps import DbSession
from safecity.api.errors import problems
from safecity.api.rate_limit import SignedRequest, limit_per_source
from safecity.bounds import Line
from safecity.ops.alerts.analytics import EVENTS, AnalyticsEvent, Outcome, UnknownCamera, take_event
from safecity.ops.alerts.grouping import AlertGrouping
from safecity.ops.alerts.schemas import AlertOut, alert_out
from safecity.ops.alerts.signed_requests import signed_body

router = APIRouter(prefix="/api/analytics", tags=["analytics"])


class AnalyticsEventIn(AnalyticsEvent):
    camera: Line = Field(min_length=1, max_length=64, description="The camera's code.")


class AnalyticsResult(BaseModel):
    outcome: Outcome = Field(description="raised, folded (into an open alert) or suppressed.")
    alert: AlertOut | None = Field(description="The alert; null when a rule suppressed it.")


async def signed_analytics(request: Request) -> SignedRequest:
    """The verified analytics source and the raw body (413, 401 as for inbound alerts)."""
    return await signed_body(request, request.app.state.settings.ops.analytics_sources)


@router.post(
    "/events",
    response_model=AnalyticsResult,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Folded into an open alert, or suppressed by a rule."}},
    dependencies=[Depends(limit_per_source(signed_analytics, "analytics"))],
)
def post_event(
    signed: Annotated[SignedRequest, Depends(signed_analytics)],
    request: Request,
    response: Response,
    session: DbSession,
) -> AnalyticsResult:
    """One detection event (201 when it raised a new alert; 200 when folded or suppressed)."""
    source, raw = signed
    try:
        body = AnalyticsEventIn.model_validate_json(raw)
    except ValidationError as exc:
        EVENTS.labels(Outcome.MALFORMED.value).inc()
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=problems(exc.errors()),
        ) from exc
    settings = request.app.state.settings
    try:
        outcome, alert = take_event(
            session,
            body.camera,
            AnalyticsEvent.model_validate(body.model_dump(exclude={"camera"})),
            zone=settings.zone,
            grouping=AlertGrouping.from_settings(settings.ops),
            actor=f"analytics:{source}",
        )
    except UnknownCamera as exc:
        EVENTS.labels(Outcome.UNKNOWN_CAMERA.value).inc()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    session.commit()  # frees the audit log's lock now (see DbSession)
    EVENTS.labels(outcome.value).inc()
    if outcome is not Outcome.RAISED:
        response.status_code = status.HTTP_200_OK
    return AnalyticsResult(outcome=outcome, alert=alert_out(alert) if alert else None)
