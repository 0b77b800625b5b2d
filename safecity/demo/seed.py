"""Write a DemoCity into an empty, migrated database in one transaction.

The city itself (districts, organizations, police units, sites, cameras) is written as a city
folder and imported with ``safecity.city.folder``, exactly as a real city is: the demo proves
that path on a thousand cameras, and leaves the folder behind as an example. Crime records and
the demo's logins, which a city folder does not hold, are bulk-inserted after it; their
districts come from their positions through ``DistrictLocator``, as every import's do.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.passwords import hash_password
from safecity.city.districts import stored_district_locator
from safecity.city.folder.reading import read_city_folder
from safecity.city.folder.store import apply_city
from safecity.city.geo import DistrictLocator
from safecity.city.models import Camera, District, Organization, PoliceUnit, Site
from safecity.city.stream_credentials import CredentialKeyring
from safecity.core.clock import utcnow
from safecity.demo.city import DemoCity
from safecity.demo.city_folder import demo_city_files
from safecity.demo.history import add_demo_history
from safecity.demo.requests import demo_requests
from safecity.insights.models import CrimeRecord
from safecity.ops.incident_types.file import BUILT_IN, default_incident_types
from safecity.ops.incident_types.store import apply_incident_types
from safecity.planning.requests.models import CameraRequest
from safecity.private_files import make_folders
from safecity.store.engine import Database
from safecity.store.models import Base


class AlreadySeededError(RuntimeError):
    """The database already holds a city; seeding again would mix two cities."""


class DemoCityRefused(RuntimeError):
    """The city folder import refused the generated city: a fault of the generator."""


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
    folder: Path | None


def seed_demo_city(
    database: Database,
    city: DemoCity,
    *,
    reset: bool = False,
    folder: Path | None = None,
    keyring: CredentialKeyring | None = None,
) -> SeedReport:
    """Store ``city``. Refuses a database that already has districts unless ``reset``, which
    first deletes every row of every SafeCity table (the schema stays). The city folder is
    written to ``folder`` (kept) or to a temporary folder (removed). The demo's stream URLs
    hold no passwords, so the ``keyring`` (by default one in the temporary folder) makes no
    key."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="safecity-demo-city-") as temporary:
        where = folder if folder is not None else Path(temporary)
        make_folders(where)
        for name, content in demo_city_files(city).items():
            (where / name).write_bytes(content)
        city_folder = read_city_folder(where)
        if city_folder.problems:
            raise DemoCityRefused("; ".join(map(str, city_folder.problems[:5])))
        with database.session() as session:
            existing = session.scalar(select(func.count()).select_from(District)) or 0
            if existing and not reset:
                raise AlreadySeededError(
                    f"the database already has {existing} districts; the demo city goes only "
                    "into an empty database (reset it to replace what is there)"
                )
            if reset:
                _delete_everything(session)
            report = apply_city(
                session,
                city_folder.description,
                city_folder.cameras,
                keyring=keyring or CredentialKeyring(Path(temporary) / "stream-credentials.key"),
                incident_types=city_folder.incident_types,
            )
            if not report.ok:
                raise DemoCityRefused("; ".join(map(str, report.problems[:5])))
            _insert_crimes(session, city, stored_district_locator(session))
            _insert_users(
                session,
                city,
                _ids_by_code(session, Organization),
                _ids_by_code(session, PoliceUnit),
            )
            add_demo_history(session, now=utcnow())
            _insert_requests(session, city)
    return SeedReport(
        districts=len(city.districts),
        organizations=len(city.organizations),
        police_units=len(city.police_units),
        sites=len(city.sites),
        cameras=len(city.cameras),
        crime_records=len(city.crimes),
        users=len(city.users),
        seconds=time.perf_counter() - started,
        folder=folder,
    )


def _delete_everything(session: Session) -> None:
    """Back to what `db upgrade` leaves: no rows but the built-in incident types it seeds."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))
    apply_incident_types(session, default_incident_types(), author=BUILT_IN)


def _ids_by_code(
    session: Session, model: type[Organization | PoliceUnit | District | Site | Camera]
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


def _insert_crimes(session: Session, city: DemoCity, locator: DistrictLocator) -> None:
    _bulk(
        session,
        CrimeRecord,
        (
            {
                "code": crime.code,
                "occurred_at": crime.occurred_at,
                "kind": crime.kind,
                "place_kind": crime.place_kind,
                "latitude": crime.latitude,
                "longitude": crime.longitude,
                "solved": crime.solved_at is not None,
                "solved_at": crime.solved_at,
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


def _insert_requests(session: Session, city: DemoCity) -> None:
    """The demo's camera requests (``safecity.demo.requests``), numbered as submitted; the
    installed ones linked to their cameras. The programme office (admin) decided them."""
    organizations = _ids_by_code(session, Organization)
    districts = _ids_by_code(session, District)
    sites = _ids_by_code(session, Site)
    cameras = _ids_by_code(session, Camera)
    users = {name: user_id for name, user_id in session.execute(select(User.username, User.id))}
    _bulk(
        session,
        CameraRequest,
        (
            {
                "number": request.number,
                "organization_id": organizations[request.organization_code],
                "district_id": districts[request.district_code],
                "site_id": sites[request.site_code] if request.site_code else None,
                "latitude": request.latitude,
                "longitude": request.longitude,
                "address": request.address,
                "justification": request.justification,
                "urgency": request.urgency,
                "status": request.status,
                "decision_reason": request.decision_reason,
                "camera_id": cameras[request.camera_code] if request.camera_code else None,
                "submitted_by_id": users.get(request.submitted_by or ""),
                "decided_by_id": users.get("admin") if request.decided_at else None,
                "submitted_at": request.submitted_at,
                "decided_at": request.decided_at,
                "installed_at": request.installed_at,
                "updated_at": request.installed_at or request.decided_at or request.submitted_at,
            }
            for request in demo_requests(city)
        ),
    )
