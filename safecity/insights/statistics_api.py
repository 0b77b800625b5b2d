"""GET /api/insights/statistics and /api/insights/before-after: crime figures cut to the
caller's districts, with the changes always in absolute numbers and the plain words on what
they can and cannot show (``statistics_service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from safecity.api.deps import CurrentScope, CurrentUser, DbSession
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.bounds import Id, Moment
from safecity.city.crime_register import CrimeKind
from safecity.insights.statistics import PeriodKind
from safecity.insights.statistics_service import (
    BeforeAfter,
    BeforeAfterQuery,
    CrimeStatistics,
    PlaceFilter,
    SourceFilter,
    StatisticsError,
    StatisticsQuery,
    before_after,
    crime_statistics,
)
from safecity.settings import Settings

FIGURE_READERS = frozenset(
    {Role.ADMIN, Role.ANALYST, Role.AKIMAT, Role.POLICE_DUTY_OFFICER, Role.OPERATOR}
)
"""Who may read crime figures: those who judge the programme, the police for their districts,
the OCC for the city it watches. A utility company's work is its equipment, not crime."""


def figure_reader(user: CurrentUser) -> User:
    """A dependency: the caller, when their role may read crime figures (403 otherwise)."""
    if user.role not in FIGURE_READERS:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"{user.role.label} accounts may not read crime figures: they are for "
            "administrators, analysts, akimats, police duty officers and OCC operators",
        )
    return user


router = APIRouter(prefix="/api/insights", tags=["insights"], dependencies=[Depends(figure_reader)])

Districts = Annotated[list[Id], Query(description="Only these districts (ids); repeat.")]
Kinds = Annotated[list[CrimeKind], Query(description="Only these kinds; repeat.")]
Places = Annotated[
    list[PlaceFilter],
    Query(description="Only these place kinds; `public` is streets and public places."),
]
Source = Annotated[
    SourceFilter,
    Query(
        description="register (default: the published figures), occ (incidents closed in the "
        "OCC, only where cameras watch) or all."
    ),
]
Label = Annotated[str, Query(min_length=4, max_length=7, examples=["2026-Q1"])]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/statistics", response_model=CrimeStatistics)
def statistics(
    request: Request,
    session: DbSession,
    scope: CurrentScope,
    period: PeriodKind = PeriodKind.QUARTER,
    since: Moment | None = None,
    until: Moment | None = None,
    district: Districts = [],  # noqa: B006
    kind: Kinds = [],  # noqa: B006
    place: Places = [],  # noqa: B006
    source: Source = SourceFilter.REGISTER,
) -> CrimeStatistics:
    """Crime counts per month, quarter or year in the city's time zone, each with the change
    from the period before and from the same period a year before (before, after, difference
    and percentage), and counts by district, kind and place kind; with the caveats in words."""
    query = StatisticsQuery(
        period=period,
        since=since,
        until=until,
        district_ids=district,
        kinds=kind,
        places=place,
        source=source,
    )
    try:
        return crime_statistics(session, scope, _settings(request), query)
    except StatisticsError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc


@router.get("/before-after", response_model=BeforeAfter)
def before_and_after(
    request: Request,
    session: DbSession,
    scope: CurrentScope,
    before: Label,
    after: Label,
    period: PeriodKind = PeriodKind.QUARTER,
    district: Districts = [],  # noqa: B006
    kind: Kinds = [],  # noqa: B006
    place: Places = [],  # noqa: B006
    treated: Annotated[
        list[Id] | None, Query(description="Treated districts; name control too.")
    ] = None,
    control: Annotated[list[Id] | None, Query(description="Control districts.")] = None,
    source: Source = SourceFilter.REGISTER,
) -> BeforeAfter:
    """One period against another (labels like 2026-Q1, 2026-03 or 2026), district by
    district; the districts that got new cameras in between (from installation dates, or as
    named) against those that did not, as a difference-in-differences rate ratio with its 95%
    interval, or the reason there is none."""
    query = BeforeAfterQuery(
        period=period,
        before=before,
        after=after,
        district_ids=district,
        kinds=kind,
        places=place,
        treated=treated,
        control=control,
        source=source,
    )
    try:
        return before_after(session, scope, _settings(request), query)
    except StatisticsError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
