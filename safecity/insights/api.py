"""Crime figures by district, kind and quarter, cut to the caller's districts."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from safecity.api.deps import CurrentScope, DbSession
from safecity.auth.scope import district_condition
from safecity.bounds import Moment
from safecity.city.crime_register import PUBLIC_PLACE_KINDS, CrimeKind
from safecity.city.models import District
from safecity.insights.models import CrimeRecord
from safecity.insights.statistics_api import figure_reader
from safecity.settings import Settings

router = APIRouter(prefix="/api/crimes", tags=["insights"], dependencies=[Depends(figure_reader)])

Grouping = Literal["district", "kind", "quarter"]


class CrimeCount(BaseModel):
    district: str | None = None
    kind: CrimeKind | None = None
    quarter: str | None = None
    count: int


class CrimeSummary(BaseModel):
    total: int
    groups: list[CrimeCount]


@router.get("/summary", response_model=CrimeSummary)
def crime_summary(
    request: Request,
    session: DbSession,
    scope: CurrentScope,
    group_by: Annotated[list[Grouping], Query()] = ["district"],  # noqa: B006
    public_only: bool = False,
    since: Moment | None = None,
    until: Moment | None = None,
) -> CrimeSummary:
    """Counts of crime records in your districts; `public_only` keeps crimes in public places
    (the programme's headline figure). Quarters are calendar quarters in the city's time zone
    (setting `timezone`), e.g. 2026-Q3."""
    settings: Settings = request.app.state.settings
    zone = settings.zone
    query = (
        select(District.name, CrimeRecord.kind, CrimeRecord.occurred_at)
        .join(District, District.id == CrimeRecord.district_id)
        .where(district_condition(scope, CrimeRecord.district_id))
    )
    if public_only:
        query = query.where(CrimeRecord.place_kind.in_(sorted(PUBLIC_PLACE_KINDS)))
    if since is not None:
        query = query.where(CrimeRecord.occurred_at >= since)
    if until is not None:
        query = query.where(CrimeRecord.occurred_at < until)
    # Quarters are counted here, not in SQL: SQLite and PostgreSQL disagree on time zones,
    # and a city's quarter starts at its own midnight.
    counts: Counter[tuple[str | None, CrimeKind | None, str | None]] = Counter()
    for district, kind, occurred_at in session.execute(query):
        local = occurred_at.astimezone(zone)
        counts[
            (
                district if "district" in group_by else None,
                kind if "kind" in group_by else None,
                f"{local.year}-Q{(local.month - 1) // 3 + 1}" if "quarter" in group_by else None,
            )
        ] += 1
    groups = [
        CrimeCount(district=d, kind=k, quarter=q, count=n)
        for (d, k, q), n in sorted(counts.items(), key=lambda item: tuple(str(p) for p in item[0]))
    ]
    return CrimeSummary(total=sum(counts.values()), groups=groups)
