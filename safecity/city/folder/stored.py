"""The stored city as the folder's entries: what the checks compare a folder against, and what
an export writes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from safecity.city.folder.checks import (
    CityDescription,
    StoredCity,
    StoredDistrict,
)
from safecity.city.folder.description import (
    DistrictEntry,
    OrganizationEntry,
    PoliceUnitEntry,
    SiteEntry,
)
from safecity.city.models import (
    District,
    Organization,
    PoliceUnit,
    Site,
    police_unit_districts,
)


def stored_city(session: Session) -> StoredCity:
    return StoredCity(
        districts={
            code: StoredDistrict(name, geometry, active)
            for code, name, geometry, active in session.execute(
                select(District.code, District.name, District.geometry, District.active)
            )
        },
        organization_kinds={
            code: kind
            for code, kind in session.execute(select(Organization.code, Organization.kind))
        },
        inactive_organizations=frozenset(
            session.scalars(select(Organization.code).where(~Organization.active))
        ),
        fallback_units=frozenset(
            session.scalars(
                select(PoliceUnit.code).where(PoliceUnit.is_fallback, PoliceUnit.active)
            )
        ),
        unit_coverage=_stored_coverage(session),
    )


def _stored_coverage(session: Session) -> dict[str, frozenset[str]]:
    covered: dict[str, set[str]] = {}
    for unit, district in session.execute(
        select(PoliceUnit.code, District.code)
        .join(police_unit_districts, police_unit_districts.c.police_unit_id == PoliceUnit.id)
        .join(District, District.id == police_unit_districts.c.district_id)
        .where(PoliceUnit.active, District.active)
    ):
        covered.setdefault(unit, set()).add(district)
    return {unit: frozenset(codes) for unit, codes in covered.items()}


def district_entry(district: District) -> DistrictEntry:
    return DistrictEntry(
        "",
        district.code,
        district.name,
        district.population,
        district.geometry,
        district.active,
    )


def organization_entry(organization: Organization) -> OrganizationEntry:
    return OrganizationEntry(
        "",
        organization.code,
        organization.name,
        organization.kind,
        organization.district.code if organization.district else None,
        organization.city_wide,
        organization.active,
    )


def police_unit_entry(unit: PoliceUnit) -> PoliceUnitEntry:
    return PoliceUnitEntry(
        "",
        unit.code,
        unit.name,
        unit.organization.code,
        unit.phone,
        tuple(sorted(district.code for district in unit.districts)),
        unit.is_fallback,
        unit.active,
    )


def site_entry(site: Site) -> SiteEntry:
    return SiteEntry(
        where="",
        code=site.code,
        name=site.name,
        kind=site.kind,
        address=site.address,
        latitude=None if site.area is not None else site.latitude,
        longitude=None if site.area is not None else site.longitude,
        area=site.area,
        owner_code=site.owner.code if site.owner else None,
        schedule=tuple(site.schedule or ()),
        tasks=tuple(site.tasks or ()),
        retention_days=site.retention_days,
        retention_bytes=site.retention_bytes,
        active=site.active,
    )


def stored_description(session: Session) -> CityDescription:
    """The stored city as folder entries, each kind ordered by code."""
    return CityDescription(
        districts=tuple(
            map(district_entry, session.scalars(select(District).order_by(District.code)))
        ),
        organizations=tuple(
            map(
                organization_entry,
                session.scalars(
                    select(Organization)
                    .options(joinedload(Organization.district))
                    .order_by(Organization.code)
                ),
            )
        ),
        police_units=tuple(
            map(
                police_unit_entry,
                session.scalars(
                    select(PoliceUnit)
                    .options(
                        joinedload(PoliceUnit.organization), selectinload(PoliceUnit.districts)
                    )
                    .order_by(PoliceUnit.code)
                ),
            )
        ),
        sites=tuple(
            map(
                site_entry,
                session.scalars(select(Site).options(joinedload(Site.owner)).order_by(Site.code)),
            )
        ),
    )
