"""GET /api/insights/report: a report of the caller's city or one of their districts, as a
PDF or an HTML file, cut to their scope (a utility company has no district's figures)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from safecity.api.deps import CurrentScope, CurrentUser, DbSession
from safecity.audit.log import record
from safecity.core.clock import utcnow
from safecity.insights.reports.building import (
    MEDIA_TYPES,
    build_report,
    file_name,
    render,
)
from safecity.insights.reports.context import (
    NothingToReport,
    OutsideScope,
    ReportContext,
    report_districts,
)
from safecity.insights.reports.period import PeriodError, parse_period
from safecity.reports.contents import SECTIONS
from safecity.settings import Settings

router = APIRouter(prefix="/api/insights", tags=["insights"])


@router.get(
    "/report",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}, "text/html": {}},
            "description": "The report file, named in Content-Disposition.",
        }
    },
)
def report(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
    period: Annotated[
        str,
        Query(
            max_length=16,
            description="A year (2026), a quarter (2026-Q3) or a month (2026-10).",
        ),
    ],
    district_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="One district; all yours if left out.")
    ] = None,
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
) -> Response:
    """The city's or a district's figures for a period: crime with its changes, before and
    after the cameras against a control, hot spots, KPIs, the camera fleet, incidents and
    camera requests, with charts and maps. A district outside your scope answers 404, as a
    missing one."""
    settings: Settings = request.app.state.settings
    try:
        chosen = parse_period(period)
    except PeriodError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[{"loc": ["query", "period"], "msg": str(exc), "type": "period"}],
        ) from exc
    try:
        districts, whole_city = report_districts(session, scope, district_id)
    except NothingToReport as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    except OutsideScope as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such district") from exc
    context = ReportContext(chosen, settings.zone, districts, whole_city)
    document = build_report(
        session,
        context,
        city=settings.city_name,
        author=f"{user.full_name} ({user.username})" if user.full_name else user.username,
        now=utcnow(),
        sections=SECTIONS,
    )
    name = file_name(context, format)
    body = render(document, format)
    record(
        session,
        action="insights.report",
        actor=user.username,
        actor_id=user.id,
        target=name,
        details={"period": chosen.code, "district_id": district_id, "format": format},
    )
    # The audit log's lock is held until the commit: take it last and let it go at once.
    session.commit()
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
