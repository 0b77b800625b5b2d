"""GET /api/insights/kpis: every KPI group for a period, cut to the caller's districts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from safecity.api.deps import CurrentScope, DbSession, require_role
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.bounds import Id, Moment
from safecity.core.clock import utcnow
from safecity.insights.kpis.figures import KpiError
from safecity.insights.kpis.report import KpiReport
from safecity.insights.kpis.store import KpiQuery, UnknownDistrict, city_kpis
from safecity.settings import Settings

router = APIRouter(prefix="/api/insights", tags=["insights"])

KPI_READERS = (Role.ADMIN, Role.ANALYST, Role.AKIMAT)
"""The city's figures are for those who judge the programme; an akimat sees its district's."""
DEFAULT_SPAN = timedelta(days=30)


@router.get("/kpis", response_model=KpiReport)
def kpis(
    request: Request,
    session: DbSession,
    scope: CurrentScope,
    _user: Annotated[User, Depends(require_role(*KPI_READERS))],
    since: Annotated[
        Moment | None, Query(description="From (default: 30 days before until).")
    ] = None,
    until: Annotated[Moment | None, Query(description="Before (default: now).")] = None,
    district_id: Id | None = None,
) -> KpiReport:
    """Clearance, video used, camera uptime and recording completeness, operator response
    P50/P90, incidents per district and flows of people and vehicles for [since, until) in your
    districts. Each group carries its definition in words; every share comes with its counts."""
    settings: Settings = request.app.state.settings
    end = until or utcnow()
    start = since or end - DEFAULT_SPAN
    try:
        return city_kpis(session, scope, settings, KpiQuery(start, end, district_id))
    except UnknownDistrict as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except KpiError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
