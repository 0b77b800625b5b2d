"""Stored districts, organizations, police units and sites as the admin API answers them."""

from __future__ import annotations

from safecity.city.admin.schemas import (
    DistrictAdminOut,
    OrganizationAdminOut,
    PoliceUnitAdminOut,
    SiteAdminOut,
)
from safecity.city.folder.stored import police_unit_entry
from safecity.city.models import District, Organization, PoliceUnit, Site


def district_out(district: District) -> DistrictAdminOut:
    return DistrictAdminOut(
        id=district.id,
        code=district.code,
        name=district.name,
        population=district.population,
        geometry=district.geometry,
        active=district.active,
    )


def organization_out(organization: Organization) -> OrganizationAdminOut:
    return OrganizationAdminOut(
        id=organization.id,
        code=organization.code,
        name=organization.name,
        kind=organization.kind,
        district_code=organization.district.code if organization.district else None,
        city_wide=organization.city_wide,
        active=organization.active,
    )


def police_unit_out(unit: PoliceUnit) -> PoliceUnitAdminOut:
    entry = police_unit_entry(unit)
    return PoliceUnitAdminOut(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        organization_code=entry.organization_code,
        phone=unit.phone,
        district_codes=list(entry.district_codes),
        fallback=unit.is_fallback,
        active=unit.active,
    )


def site_out(site: Site) -> SiteAdminOut:
    return SiteAdminOut(
        id=site.id,
        code=site.code,
        name=site.name,
        kind=site.kind,
        address=site.address,
        latitude=site.latitude,
        longitude=site.longitude,
        area=site.area,
        district_code=site.district.code,
        owner_code=site.owner.code if site.owner else None,
        schedule=site.schedule or [],
        tasks=site.tasks or [],
        retention_days=site.retention_days,
        retention_bytes=site.retention_bytes,
        active=site.active,
    )
