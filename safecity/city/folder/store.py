"""A checked city folder into the database, and the stored city back out as entries.

Everything happens in the caller's session: when the report has problems, or on a dry run,
the caller rolls back, so an import is all or nothing. Rows are matched by code; what the
folder does not mention is left as it is (a folder may hold one file). After districts change,
every camera and site is located again, so a moved border takes effect at once for scoping and
dispatch (both read the stored district), and whatever would fall outside every district is
named and refused unless the caller keeps it where it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from sqlalchemy import delete, insert, literal, select, text, update
from sqlalchemy.orm import Session

from safecity.city.districts import stored_district_locator
from safecity.city.folder.checks import (
    OVERLAP_TOLERANCE,
    CityDescription,
    check_city,
    inner_point,
)
from safecity.city.folder.dangling import left_without
from safecity.city.folder.description import (
    DISTRICTS_FILE,
    DistrictEntry,
    OrganizationEntry,
    PoliceUnitEntry,
    SiteEntry,
)
from safecity.city.folder.stored import stored_city
from safecity.city.folder.tables import Problem
from safecity.city.models import (
    Camera,
    District,
    Organization,
    PoliceUnit,
    Site,
    police_unit_districts,
)
from safecity.city.registry.columns import format_for
from safecity.city.registry.parsing import parse
from safecity.city.registry.records import RowProblem
from safecity.city.registry.store import ImportOutcome, import_rows, load_context
from safecity.city.stream_credentials import CredentialKeyring
from safecity.ops.incident_types import IncidentType
from safecity.ops.incident_types.store import apply_incident_types
from safecity.store.base import Base
from safecity.store.engine import take_sqlite_writer_turn
from safecity.store.locks import KEY_LOCK_SPACE

CITY_LOCK_SPACE = KEY_LOCK_SPACE + 1
"""Advisory lock space of city changes (PostgreSQL), apart from the audit log's."""

_FIELD_PREFIX_END = ": "


@dataclass(frozen=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Move:
    """A camera or site whose district changes with the new borders (None: outside all)."""

    what: str
    code: str
    name: str
    before: str
    after: str | None


@dataclass(frozen=True)
class CamerasFile:
    name: str
    data: bytes


@dataclass
class CityImportReport:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    moved: list[Move] = field(default_factory=list)
    kept_outside: list[Move] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def apply_city(
    session: Session,
    description: CityDescription,
    cameras: CamerasFile | None = None,
    *,
    keyring: CredentialKeyring | None = None,
    incident_types: Sequence[IncidentType] | None = None,
    keep_outside: bool = False,
    overlap_tolerance: float = OVERLAP_TOLERANCE,
) -> CityImportReport:
    """Check ``description`` against the stored city and write it; see the module docstring
    for what the caller must do with a report that is not ``ok``. Stream passwords in
    ``cameras`` are sealed with ``keyring`` (needed when there are cameras). ``incident_types``
    replace the city's types as `safecity incident-types import` does: a type left out is
    deactivated if incidents use it, else deleted."""
    _one_city_change_at_a_time(session)
    report = CityImportReport()
    # Only new outlines move what is stored (a written site is located as it is written, a
    # file's cameras by the registry): without them every camera need not be located twice.
    borders_change = bool(description.districts)
    outside_before = _outside_every_district(session) if borders_change else {}
    findings = check_city(description, stored_city(session), overlap_tolerance=overlap_tolerance)
    report.problems.extend(findings.problems)
    report.warnings.extend(findings.warnings)
    if not report.ok:
        return report
    report.counts["districts"] = _write_districts(session, description.districts)
    districts = _ids(session, District)
    report.counts["organizations"] = _write_organizations(
        session, description.organizations, districts
    )
    organizations = _ids(session, Organization)
    report.counts["police_units"] = _write_police_units(
        session, description.police_units, organizations, districts
    )
    report.counts["sites"] = _write_sites(session, description.sites, organizations)
    if cameras is not None:
        if keyring is None:
            raise ValueError("cameras are imported with the stream credentials keyring")
        _write_cameras(session, cameras, keyring, report)
        if not report.ok:
            return report
    if borders_change:
        _relocate(session, report, keep_outside=keep_outside, outside_before=outside_before)
    report.problems.extend(left_without(session))
    if incident_types is not None:
        types = apply_incident_types(session, incident_types)
        report.counts["incident_types"] = Counts(
            len(types.created),
            len(types.updated) + len(types.deactivated) + len(types.deleted),
            len(types.unchanged),
        )
    return report


def _ids(
    session: Session, model: type[District | Organization | PoliceUnit | Site]
) -> dict[str, int]:
    return {code: row_id for code, row_id in session.execute(select(model.code, model.id))}


def _upsert(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    also_changed: frozenset[str] | set[str] = frozenset(),
) -> Counts:
    """Insert rows whose code is new, update those that differ; one executemany each.
    ``also_changed`` names rows that changed elsewhere (a unit's districts) and so count as
    updated even when their own columns are equal."""
    if not rows:
        return Counts()
    table = model.__table__
    fields = list(rows[0])
    ids: dict[str, int] = {}
    existing: dict[str, dict[str, Any]] = {}
    for row_id, *values in session.execute(select(table.c.id, *(table.c[f] for f in fields))):
        stored = dict(zip(fields, values, strict=True))
        ids[stored["code"]] = row_id
        existing[stored["code"]] = stored
    inserts = [row for row in rows if row["code"] not in existing]
    updates = [
        {**row, "id": ids[row["code"]]}
        for row in rows
        if row["code"] in existing and existing[row["code"]] != row
    ]
    if inserts:
        session.execute(insert(model), inserts)
    if updates:
        session.execute(update(model), updates)
    equal = {row["code"] for row in rows if existing.get(row["code"]) == row}
    updated = len(updates) + len(equal & set(also_changed))
    return Counts(len(inserts), updated, len(rows) - len(inserts) - updated)


def _write_districts(session: Session, entries: Sequence[DistrictEntry]) -> Counts:
    _free_names_taken_in_turn(session, entries)
    return _upsert(
        session,
        District,
        [
            {
                "code": e.code,
                "name": e.name,
                "population": e.population,
                "geometry": e.geometry,
                "active": e.active,
            }
            for e in entries
        ],
    )


_RENAMING = "\u2063renaming "
"""Prefix of a district's name for the moment of a rename: no name a person types has it."""


def _free_names_taken_in_turn(session: Session, entries: Sequence[DistrictEntry]) -> None:
    """District names are unique, and a folder may swap two (or pass a name along): the
    renamed districts first get a name no district has, so no row ever holds one twice."""
    stored = {code: name for code, name in session.execute(select(District.code, District.name))}
    renamed = [e.code for e in entries if e.code in stored and stored[e.code] != e.name]
    if renamed:
        session.execute(
            update(District)
            .where(District.code.in_(renamed))
            .values(name=literal(_RENAMING) + District.code)
        )


def _write_organizations(
    session: Session, entries: Sequence[OrganizationEntry], districts: Mapping[str, int]
) -> Counts:
    return _upsert(
        session,
        Organization,
        [
            {
                "code": e.code,
                "name": e.name,
                "kind": e.kind,
                "district_id": districts[e.district_code] if e.district_code else None,
                "city_wide": e.city_wide,
                "active": e.active,
            }
            for e in entries
        ],
    )


def _write_police_units(
    session: Session,
    entries: Sequence[PoliceUnitEntry],
    organizations: Mapping[str, int],
    districts: Mapping[str, int],
) -> Counts:
    if not entries:
        return Counts()
    before = _ids(session, PoliceUnit)
    coverage = _coverage(session)
    recovered = {
        e.code
        for e in entries
        if e.code in before
        and coverage.get(before[e.code], frozenset()) != {districts[c] for c in e.district_codes}
    }
    counts = _upsert(
        session,
        PoliceUnit,
        [
            {
                "code": e.code,
                "name": e.name,
                "organization_id": organizations[e.organization_code],
                "phone": e.phone,
                "is_fallback": e.fallback,
                "active": e.active,
            }
            for e in entries
        ],
        also_changed=recovered,
    )
    units = _ids(session, PoliceUnit)
    rewritten = recovered | {e.code for e in entries if e.code not in before}
    session.execute(
        delete(police_unit_districts).where(
            police_unit_districts.c.police_unit_id.in_([units[code] for code in recovered])
        )
    )
    rows = [
        {"police_unit_id": units[e.code], "district_id": districts[code]}
        for e in entries
        if e.code in rewritten
        for code in e.district_codes
    ]
    if rows:
        session.execute(insert(police_unit_districts), rows)
    return counts


def _coverage(session: Session) -> dict[int, frozenset[int]]:
    covered: dict[int, set[int]] = {}
    for unit_id, district_id in session.execute(
        select(police_unit_districts.c.police_unit_id, police_unit_districts.c.district_id)
    ):
        covered.setdefault(unit_id, set()).add(district_id)
    return {unit_id: frozenset(ids) for unit_id, ids in covered.items()}


def _write_sites(
    session: Session, entries: Sequence[SiteEntry], organizations: Mapping[str, int]
) -> Counts:
    if not entries:
        return Counts()
    locator = stored_district_locator(session)
    rows: list[dict[str, Any]] = []
    for e in entries:
        if e.area is not None:
            latitude, longitude = inner_point(e.area)
        else:
            assert e.latitude is not None and e.longitude is not None
            latitude, longitude = e.latitude, e.longitude
        district_id = locator.locate(latitude, longitude)
        assert district_id is not None, "checked: every site lies in a district"
        rows.append(
            {
                "code": e.code,
                "name": e.name,
                "kind": e.kind,
                "address": e.address,
                "latitude": latitude,
                "longitude": longitude,
                "area": e.area,
                "district_id": district_id,
                "owner_organization_id": organizations[e.owner_code] if e.owner_code else None,
                "schedule": list(e.schedule),
                "tasks": list(e.tasks),
                "retention_days": e.retention_days,
                "retention_bytes": e.retention_bytes,
                "active": e.active,
            }
        )
    return _upsert(session, Site, rows)


def _write_cameras(
    session: Session, cameras: CamerasFile, keyring: CredentialKeyring, report: CityImportReport
) -> None:
    parsed = parse(cameras.data, format_for(PurePath(cameras.name)))
    camera_report = import_rows(session, parsed.rows, load_context(session), keyring)
    if camera_report.outcome is ImportOutcome.REJECTED:
        report.problems.extend(
            _camera_problem(cameras.name, problem) for problem in camera_report.validation.problems
        )
        return
    report.counts["cameras"] = Counts(
        camera_report.created, camera_report.updated, camera_report.unchanged
    )


def _camera_problem(file: str, problem: RowProblem) -> Problem:
    where = f"{problem.where} ({problem.camera_id})" if problem.camera_id else problem.where
    reasons = []
    fields = []
    for reason in problem.reasons:
        name, separator, rest = reason.partition(_FIELD_PREFIX_END)
        if separator and name.isidentifier():
            fields.append(name)
            reasons.append(rest)
        else:
            reasons.append(reason)
    return Problem(file, where, ", ".join(dict.fromkeys(fields)), "; ".join(reasons))


def _one_city_change_at_a_time(session: Session) -> None:
    """Two imports (or an import and an admin's change) checked at once could each find the
    city fine and together break it (two fallback units): city changes take turns. On
    PostgreSQL a lock of their own, so alerts and incidents do not wait for an import; SQLite
    has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext('city'))"),
            {"space": CITY_LOCK_SPACE},
        )
    else:
        take_sqlite_writer_turn(session)


def _outside_every_district(session: Session) -> dict[str, set[int]]:
    """Cameras and sites that already lie outside every active district (kept there by an
    earlier change): a later change that does not move them does not refuse them again."""
    locator = stored_district_locator(session)
    outside: dict[str, set[int]] = {}
    for what, model in (("camera", Camera), ("site", Site)):
        rows = session.execute(select(model.id, model.latitude, model.longitude)).all()
        found = locator.locate_many([(row.latitude, row.longitude) for row in rows])
        outside[what] = {
            row.id for row, district in zip(rows, found, strict=True) if district is None
        }
    return outside


def _relocate(
    session: Session,
    report: CityImportReport,
    *,
    keep_outside: bool,
    outside_before: Mapping[str, set[int]],
) -> None:
    """Every camera and site located again under the stored borders."""
    locator = stored_district_locator(session)
    codes = {district_id: code for code, district_id in _ids(session, District).items()}
    for what, model in (("camera", Camera), ("site", Site)):
        rows = session.execute(
            select(
                model.id, model.code, model.name, model.latitude, model.longitude, model.district_id
            )
        ).all()
        found = locator.locate_many([(row.latitude, row.longitude) for row in rows])
        changes: list[dict[str, Any]] = []
        for row, district_id in zip(rows, found, strict=True):
            if district_id == row.district_id:
                continue
            move = Move(
                what,
                row.code,
                row.name,
                codes[row.district_id],
                None if district_id is None else codes[district_id],
            )
            if district_id is None:
                if row.id in outside_before[what]:
                    continue
                if keep_outside:
                    report.kept_outside.append(move)
                else:
                    report.problems.append(
                        Problem(
                            DISTRICTS_FILE,
                            "",
                            "geometry",
                            f"{what} {row.code} ({row.name}) at {row.latitude!r}, "
                            f"{row.longitude!r} would lie outside every district (now in "
                            f"{move.before!r}): fix the borders, or keep it in its district (--keep-outside; "
                            "keep_outside=true in the API)",
                        )
                    )
                continue
            report.moved.append(move)
            changes.append({"id": row.id, "district_id": district_id})
        if changes:
            session.execute(update(model), changes)
