"""Write a DemoCity into an empty, migrated database in one transaction of bulk inserts.

Cameras, sites and crime records get their district from their position through
``DistrictLocator``, the way every import does, rather than from the generator's own
bookkeeping: the seeded city proves that derivation on a thousand cameras.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.passwords import hash_password
from safecity.city.districts import stored_district_locator
from safecity.city.geo import DistrictLocator
from safecity.city.models import (
    Camera,
    District,
    Organization,
    PoliceUnit,
    Site,
    police_unit_districts,
)
from safecity.demo.city import DemoCity
from safecity.insights.models import CrimeRecord
from safecity.ops.incident_types.file import BUILT_IN, default_incident_types
from safecity.ops.incident_types.store import apply_incident_types
from safecity.store.engine import Database
from safecity.store.models import Base


class AlreadySeededError(RuntimeError):
    """The database already holds a city; seeding again would mix two cities."""


@dataclass(frozen=True)
class SeedReport:
    districts: int
    organizations: int
    police_units: int
    sites: int
    cameras: int
    crime_records: int
    users: int
    seconds: float


def seed_demo_city(database: Database, city: DemoCity, *, reset: bool = False) -> SeedReport:
    """Store ``city``. Refuses a database that already has districts unless ``reset``, which
    first deletes every row of every SafeCity table (the schema stays)."""
    started = time.perf_counter()
    with database.session() as session:
        existing = session.scalar(select(func.count()).select_from(District)) or 0
        if existing and not reset:
            raise AlreadySeededError(
                f"the database already has {existing} districts; the demo city goes only into an "
                "empty database (reset it to replace what is there)"
            )
        if reset:
            _delete_everything(session)
        districts = _insert_districts(session, city)
        organizations = _insert_organizations(session, city, districts)
        units = _insert_police_units(session, city, districts, organizations)
        locator = stored_district_locator(session)
        sites = _insert_sites(session, city, locator, organizations)
        _insert_cameras(session, city, locator, sites)
        _insert_crimes(session, city, locator)
        _insert_users(session, city, organizations, units)
    return SeedReport(
        districts=len(city.districts),
        organizations=len(city.organizations),
        police_units=len(city.police_units),
        sites=len(city.sites),
        cameras=len(city.cameras),
        crime_records=len(city.crimes),
        users=len(city.users),
        seconds=time.perf_counter() - started,
    )


def _delete_everything(session: Session) -> None:
    """Back to what `db upgrade` leaves: no rows but the built-in incident types it seeds."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))
    apply_incident_types(session, default_incident_types(), author=BUILT_IN)


def _ids_by_code(
    session: Session, model: type[District | Organization | PoliceUnit | Site]
) -> dict[str, int]:
    return {code: row_id for code, row_id in session.execute(select(model.code, model.id))}


def _bulk(session: Session, model: type[Base], rows: Iterable[dict[str, Any]]) -> None:
    batch = list(rows)
    if batch:
        session.execute(insert(model), batch)


def _district_of(locator: DistrictLocator, what: str, latitude: float, longitude: float) -> int:
    district_id = locator.locate(latitude, longitude)
    if district_id is None:
        raise ValueError(f"{what} at {latitude}, {longitude} lies outside every district")
    return district_id


def _insert_districts(session: Session, city: DemoCity) -> dict[str, int]:
    _bulk(
        session,
        District,
        (
            {"code": d.code, "name": d.name, "population": d.population, "geometry": d.geometry}
            for d in city.districts
        ),
    )
    return _ids_by_code(session, District)


def _insert_organizations(
    session: Session, city: DemoCity, districts: dict[str, int]
) -> dict[str, int]:
    _bulk(
        session,
        Organization,
        (
            {
                "code": org.code,
                "name": org.name,
                "kind": org.kind,
                "district_id": districts[org.district_code] if org.district_code else None,
                "city_wide": org.city_wide,
            }
            for org in city.organizations
        ),
    )
    return _ids_by_code(session, Organization)


def _insert_police_units(
    session: Session, city: DemoCity, districts: dict[str, int], organizations: dict[str, int]
) -> dict[str, int]:
    _bulk(
        session,
        PoliceUnit,
        (
            {
                "code": unit.code,
                "name": unit.name,
                "organization_id": organizations[unit.organization_code],
                "phone": unit.phone,
                "is_fallback": unit.is_fallback,
            }
            for unit in city.police_units
        ),
    )
    units = _ids_by_code(session, PoliceUnit)
    coverage = [
        {"police_unit_id": units[unit.code], "district_id": districts[code]}
        for unit in city.police_units
        for code in unit.district_codes
    ]
    if coverage:
        session.execute(insert(police_unit_districts), coverage)
    return units


def _insert_sites(
    session: Session, city: DemoCity, locator: DistrictLocator, organizations: dict[str, int]
) -> dict[str, int]:
    _bulk(
        session,
        Site,
        (
            {
                "code": site.code,
                "name": site.name,
                "kind": site.kind,
                "address": site.address,
                "latitude": site.latitude,
                "longitude": site.longitude,
                "district_id": _district_of(
                    locator, f"site {site.code}", site.latitude, site.longitude
                ),
                "owner_organization_id": organizations[site.owner_code]
                if site.owner_code
                else None,
                "schedule": list(site.schedule),
                "tasks": list(site.tasks),
            }
            for site in city.sites
        ),
    )
    return _ids_by_code(session, Site)


def _insert_cameras(
    session: Session, city: DemoCity, locator: DistrictLocator, sites: dict[str, int]
) -> None:
    _bulk(
        session,
        Camera,
        (
            {
                "code": camera.code,
                "name": camera.name,
                "address": camera.address,
                "latitude": camera.latitude,
                "longitude": camera.longitude,
                "district_id": _district_of(
                    locator, f"camera {camera.code}", camera.latitude, camera.longitude
                ),
                "site_id": sites[camera.site_code] if camera.site_code else None,
                "main_stream_url": camera.main_stream_url,
                "sub_stream_url": camera.sub_stream_url,
                "status": camera.status,
                "installed_at": camera.installed_at,
                "vendor": camera.vendor,
                "model": camera.model,
                "firmware": camera.firmware,
            }
            for camera in city.cameras
        ),
    )


def _insert_crimes(session: Session, city: DemoCity, locator: DistrictLocator) -> None:
    _bulk(
        session,
        CrimeRecord,
        (
            {
                "code": crime.code,
                "occurred_at": crime.occurred_at,
                "kind": crime.kind,
                "public_place": crime.public_place,
                "latitude": crime.latitude,
                "longitude": crime.longitude,
                "district_id": _district_of(
                    locator, f"crime record {crime.code}", crime.latitude, crime.longitude
                ),
            }
            for crime in city.crimes
        ),
    )


def _insert_users(
    session: Session, city: DemoCity, organizations: dict[str, int], units: dict[str, int]
) -> None:
    # Argon2 takes a tenth of a second by design: hash each distinct demo password once.
    hashes = {
        password: hash_password(password) for password in {user.password for user in city.users}
    }
    _bulk(
        session,
        User,
        (
            {
                "username": user.username,
                "full_name": user.full_name,
                "password_hash": hashes[user.password],
                "role": user.role,
                "organization_id": organizations[user.organization_code]
                if user.organization_code
                else None,
                "police_unit_id": units[user.police_unit_code] if user.police_unit_code else None,
            }
            for user in city.users
        ),
    )
