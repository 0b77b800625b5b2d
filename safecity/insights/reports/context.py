"""What a report covers: its period, its districts and the city's clock. Resolved once, from
the caller's scope, before any section is built; a section reads only these districts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.auth.roles import Scope
from safecity.auth.scope import district_condition
from safecity.city.models import District
from safecity.insights.reports.period import Period
from safecity.settings import Settings

WHOLE_CITY = "Whole city"


class OutsideScope(LookupError):
    """The district asked for is unknown or not the caller's (the same answer for both)."""


class NothingToReport(PermissionError):
    """The caller's scope holds no district: a utility company, a user without a link."""


@dataclass(frozen=True)
class ReportDistrict:
    id: int
    code: str
    name: str
    geometry: dict[str, Any]
    population: int | None


@dataclass(frozen=True)
class ReportContext:
    period: Period
    zone: tzinfo
    districts: Sequence[ReportDistrict]
    """Those the report covers, by name; never outside the caller's scope."""
    whole_city: bool
    """Every active district of the city: also counts what belongs to none (an incident
    opened outside every district)."""

    @property
    def district_ids(self) -> list[int]:
        return [district.id for district in self.districts]

    @property
    def area(self) -> str:
        if self.whole_city:
            return WHOLE_CITY
        return ", ".join(district.name for district in self.districts)

    @property
    def single_district(self) -> bool:
        return len(self.districts) == 1

    def bounds(self, period: Period | None = None) -> tuple[datetime, datetime]:
        return (period or self.period).bounds(self.zone)

    @property
    def scope(self) -> Scope:
        """The report's districts as a scope, for the services that take one (statistics,
        hotspots, KPIs): they then read these districts and nothing else."""
        return Scope(district_ids=frozenset(self.district_ids))

    @property
    def settings(self) -> Settings:
        """Settings for the services, which read only the city's time zone from them."""
        return Settings.model_construct(timezone=str(self.zone))


def report_districts(
    session: Session, scope: Scope, district_id: int | None = None
) -> tuple[list[ReportDistrict], bool]:
    """The districts a report covers and whether that is the whole city: the one asked for,
    or every district the scope sees. Raises OutsideScope for a district the caller may not
    see (or that does not exist) and NothingToReport for a scope without districts."""
    if not scope.city_wide and not scope.district_ids:
        raise NothingToReport("your role sees no district's figures")
    query = (
        select(District)
        .where(District.active.is_(True), district_condition(scope, District.id))
        .order_by(District.name)
    )
    if district_id is not None:
        query = query.where(District.id == district_id)
    districts = [
        ReportDistrict(d.id, d.code, d.name, d.geometry, d.population)
        for d in session.scalars(query)
    ]
    if district_id is not None and not districts:
        raise OutsideScope(f"no district {district_id}")
    if not districts:
        raise NothingToReport("no active district in your scope")
    return districts, scope.city_wide and district_id is None


def district_named(session: Session, name: str) -> int | None:
    """The id of the active district with this name or code (compared without case)."""
    wanted = name.strip().casefold()
    for district_id, district_name, code in session.execute(
        select(District.id, District.name, District.code).where(District.active.is_(True))
    ):
        if wanted in (district_name.casefold(), code.casefold()):
            return district_id
    return None
