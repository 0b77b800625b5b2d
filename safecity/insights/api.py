"""Crime figures by district, kind and quarter, cut to the caller's districts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, extract, false, func, select, true

from safecity.api.deps import CurrentScope, DbSession
from safecity.auth.roles import Scope
from safecity.city.models import District
from safecity.insights.models import CrimeKind, CrimeRecord

router = APIRouter(prefix="/api/crimes", tags=["insights"])


class CrimeCount(BaseModel):
    district: str | None = None
    kind: CrimeKind | None = None
    quarter: str | None = None
    count: int


class CrimeSummary(BaseModel):
    total: int
    groups: list[CrimeCount]


def _crime_condition(scope: Scope) -> ColumnElement[bool]:
    # Crime records belong to districts only: an organization scoped to its own sites
    # (a utility company) sees no city crime figures.
    if scope.city_wide:
        return true()
    if scope.district_ids:
        return CrimeRecord.district_id.in_(sorted(scope.district_ids))
    return false()


@router.get("/summary", response_model=CrimeSummary)
def crime_summary(
    session: DbSession,
    scope: CurrentScope,
    group_by: Annotated[list[Literal["district", "kind", "quarter"]], Query()] = ["district"],  # noqa: B006
    public_only: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> CrimeSummary:
    """Counts of crime records; `public_only` keeps crimes in public places (the programme's
    headline figure). Quarters are calendar quarters in UTC, e.g. 2026-Q3."""
    query = (
        select(
            District.name,
            CrimeRecord.kind,
            extract("year", CrimeRecord.occurred_at).label("year"),
            extract("month", CrimeRecord.occurred_at).label("month"),
            func.count(),
        )
        .join(District, District.id == CrimeRecord.district_id)
        .where(_crime_condition(scope))
    )
    if public_only:
        query = query.where(CrimeRecord.public_place.is_(True))
    if since is not None:
        query = query.where(CrimeRecord.occurred_at >= since)
    if until is not None:
        query = query.where(CrimeRecord.occurred_at < until)
    query = query.group_by(District.name, CrimeRecord.kind, "year", "month")
    counts: Counter[tuple[str | None, CrimeKind | None, str | None]] = Counter()
    for district, kind, year, month, count in session.execute(query):
        quarter = f"{int(year)}-Q{(int(month) - 1) // 3 + 1}"
        key = (
            district if "district" in group_by else None,
            kind if "kind" in group_by else None,
            quarter if "quarter" in group_by else None,
        )
        counts[key] += count
    groups = [
        CrimeCount(district=d, kind=k, quarter=q, count=n)
        for (d, k, q), n in sorted(counts.items(), key=lambda item: tuple(str(p) for p in item[0]))
    ]
    return CrimeSummary(total=sum(counts.values()), groups=groups)
