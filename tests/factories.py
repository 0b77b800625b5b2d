"""Build small cities in code for tests: square districts on a grid, sites, cameras, users."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.passwords import hash_password
from safecity.auth.roles import Role
from safecity.city.models import (
    Camera,
    District,
    Organization,
    OrganizationKind,
    PoliceUnit,
    Site,
    SiteKind,
)

# Two districts side by side near Astana: West covers lon 71.30–71.40, East 71.40–71.50,
# both lat 51.10–51.20.
WEST = (71.30, 51.10, 71.40, 51.20)
EAST = (71.40, 51.10, 71.50, 51.20)
PASSWORD = "correct-horse-battery"


@cache
def password_hash() -> str:
    """Argon2 is slow on purpose; tests hash the shared password once per run."""
    return hash_password(PASSWORD)


def square(bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    west, south, east, north = bounds
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def add_district(
    session: Session, code: str, bounds: tuple[float, float, float, float]
) -> District:
    district = District(code=code, name=code.title(), population=100_000, geometry=square(bounds))
    session.add(district)
    session.flush()
    return district


def add_organization(
    session: Session, code: str, kind: OrganizationKind, district: District | None = None
) -> Organization:
    org = Organization(code=code, name=code.replace("-", " ").title(), kind=kind, district=district)
    session.add(org)
    session.flush()
    return org


def add_site(
    session: Session,
    code: str,
    district: District,
    owner: Organization | None = None,
    kind: SiteKind = SiteKind.PARK,
) -> Site:
    west, south, east, north = _bounds_of(district)
    site = Site(
        code=code,
        name=code.title(),
        kind=kind,
        district=district,
        owner=owner,
        latitude=(south + north) / 2,
        longitude=(west + east) / 2,
    )
    session.add(site)
    session.flush()
    return site


def add_camera(
    session: Session, code: str, district: District, site: Site | None = None, **fields: Any
) -> Camera:
    west, south, east, north = _bounds_of(district)
    fields.setdefault("main_stream_url", f"rtsp://10.0.0.1/{code}/main")
    camera = Camera(
        code=code,
        name=f"Camera {code}",
        district=district,
        site=site,
        latitude=(south + north) / 2,
        longitude=(west + east) / 2,
        **fields,
    )
    session.add(camera)
    session.flush()
    return camera


def add_user(
    session: Session,
    username: str,
    role: Role,
    organization: Organization | None = None,
    police_unit: PoliceUnit | None = None,
) -> User:
    user = User(
        username=username,
        full_name=username.title(),
        role=role,
        password_hash=password_hash(),
        organization=organization,
        police_unit=police_unit,
    )
    session.add(user)
    session.flush()
    return user


def user_named(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


@dataclass(frozen=True)
class EastCity:
    """One district (east) with its police unit, a camera, an admin, an operator (anna) and
    the unit's duty officer: enough for an alert to become a dispatched incident."""

    camera_id: int
    unit_id: int
    district_id: int


def add_east_city(session: Session) -> EastCity:
    east = add_district(session, "east", EAST)
    police = add_organization(session, "police", OrganizationKind.POLICE)
    unit = PoliceUnit(code="u-east", name="East", organization=police, districts=[east])
    session.add(unit)
    camera = add_camera(session, "E-1", east)
    add_user(session, "admin", Role.ADMIN)
    add_user(session, "anna", Role.OPERATOR)
    add_user(session, "officer", Role.POLICE_DUTY_OFFICER, police, police_unit=unit)
    session.flush()
    return EastCity(camera.id, unit.id, east.id)


def _bounds_of(district: District) -> tuple[float, float, float, float]:
    ring = district.geometry["coordinates"][0]
    lons = [point[0] for point in ring]
    lats = [point[1] for point in ring]
    return min(lons), min(lats), max(lons), max(lats)
