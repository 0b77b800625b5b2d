"""The camera registry in the database: what an import is checked against, the upsert, the export.

Stream URLs are stored as ``safecity.city.stream_credentials`` says: passwords sealed with the
key, the shown URL with them hidden; an export gives the shown URLs unless asked for the whole.

Set-based on purpose: districts, sites and existing cameras are each read with one query, and
new and changed cameras are written with one executemany per batch, so a 10,000-camera file
costs a handful of statements rather than one round trip per camera. Everything happens in the
caller's session, so the caller's transaction makes an import all-or-nothing.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from safecity.city.districts import stored_district_locator
from safecity.city.models import Camera, District, Site
from safecity.city.registry.checking import validate
from safecity.city.registry.columns import COLUMNS, OPTIONAL_COLUMNS
from safecity.city.registry.parsing import SourceRow
from safecity.city.registry.records import CameraRecord, ImportContext, Validation
from safecity.city.stream_credentials import CredentialKeyring, StoredStream, seal, stream_url
from safecity.city.stream_urls import without_password

WRITE_BATCH = 1000

# The camera fields an import sets: the required ones, and for each optional file column the
# camera field it lands in (the same name, but for `site`, a code that becomes a site_id).
_REQUIRED_FIELDS = ("name", "latitude", "longitude", "district_id", "main_stream_url")
_FIELD_NAMED_OTHERWISE: Mapping[str, str] = {"site": "site_id"}
_OPTIONAL_FIELDS: Mapping[str, str] = {
    column: _FIELD_NAMED_OTHERWISE.get(column, column)
    for column in COLUMNS
    if column in OPTIONAL_COLUMNS
}
_STREAM_FIELDS: Mapping[str, str] = {
    "main_stream_url": "main_stream_sealed",
    "sub_stream_url": "sub_stream_sealed",
}
"""Each stream URL field and the field its sealed whole form is kept in."""
_MANAGED_FIELDS = (*_REQUIRED_FIELDS, *_OPTIONAL_FIELDS.values(), *_STREAM_FIELDS.values())

Progress = Callable[[str, int, int], None]
"""Told (phase, done, total) as an import goes: phase is "checking" or "writing"."""


class ImportOutcome(enum.StrEnum):
    WRITTEN = "written"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"  # bad rows and no --skip-invalid: nothing written


@dataclass(frozen=True)
class ImportPlan:
    """Rows to insert, rows to update (id plus every managed field) and how many are equal."""

    inserts: tuple[dict[str, Any], ...]
    updates: tuple[dict[str, Any], ...]
    unchanged: int


@dataclass(frozen=True)
class ImportReport:
    outcome: ImportOutcome
    validation: Validation
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def skipped(self) -> int:
        return len(self.validation.problems) if self.outcome is not ImportOutcome.REJECTED else 0


@dataclass(frozen=True)
class RegistryExport:
    records: tuple[CameraRecord, ...]
    district_names: Mapping[int, str]


def district_keys(session: Session) -> dict[str, frozenset[int]]:
    """Casefolded district names and codes to the districts they name.

    Matched in Python: SQLite's lower() leaves Cyrillic as it is.
    """
    keys: defaultdict[str, set[int]] = defaultdict(set)
    for district_id, code, name in session.execute(
        select(District.id, District.code, District.name)
    ):
        keys[code.casefold()].add(district_id)
        keys[name.casefold()].add(district_id)
    return {key: frozenset(ids) for key, ids in keys.items()}


def load_context(session: Session) -> ImportContext:
    """Districts and sites as they are now. Raises ValueError on an unusable district polygon."""
    sites = {code: site_id for code, site_id in session.execute(select(Site.code, Site.id))}
    return ImportContext(stored_district_locator(session), district_keys(session), sites)


def import_rows(
    session: Session,
    rows: Sequence[SourceRow],
    context: ImportContext,
    keyring: CredentialKeyring,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check ``rows`` and upsert the good ones by camera code, in the caller's transaction.

    With any bad row and no ``skip_invalid`` nothing is written. ``dry_run`` checks and counts
    what would change without writing. Passwords in stream URLs are sealed with ``keyring``
    (a ``HiddenPasswordError`` for a masked one that keeps no stored password).
    """
    validation = validate(
        rows,
        context,
        None if progress is None else lambda done, total: progress("checking", done, total),
    )
    if validation.problems and not skip_invalid:
        return ImportReport(ImportOutcome.REJECTED, validation)
    plan = plan_import(session, validation.records, context, keyring)
    if not dry_run:
        write_import(session, plan, progress)
    return ImportReport(
        ImportOutcome.DRY_RUN if dry_run else ImportOutcome.WRITTEN,
        validation,
        created=len(plan.inserts),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
    )


def plan_import(
    session: Session,
    records: Sequence[CameraRecord],
    context: ImportContext,
    keyring: CredentialKeyring,
) -> ImportPlan:
    """Split valid records into new cameras, changed cameras and unchanged ones."""
    columns = [getattr(Camera, field) for field in _MANAGED_FIELDS]
    existing = {
        code: dict(zip(("id", *_MANAGED_FIELDS), values, strict=True))
        for code, *values in session.execute(select(Camera.code, Camera.id, *columns))
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for record in records:
        current = existing.get(record.code)
        values = _sealed(_fields(record, context.sites), current, keyring, session)
        if current is None:
            inserts.append({"code": record.code, **values})
        elif all(current[field] == value for field, value in values.items()):
            unchanged += 1
        else:
            # Same keys for every row, so the whole update is one executemany; fields the file
            # does not carry keep their current value.
            updates.append({**current, **values})
    return ImportPlan(tuple(inserts), tuple(updates), unchanged)


def _fields(record: CameraRecord, sites: Mapping[str, int]) -> dict[str, Any]:
    """The camera fields a record sets: the required ones and the optional columns it carried."""
    every = {
        "name": record.name,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "district_id": record.district_id,
        "main_stream_url": record.main_stream_url,
        "address": record.address,
        "site_id": sites[record.site_code] if record.site_code else None,
        "sub_stream_url": record.sub_stream_url,
        "status": record.status,
        "installed_at": record.installed_at,
        "vendor": record.vendor,
        "model": record.model,
        "firmware": record.firmware,
    }
    # every[field] rather than a filter over every: a column added to the format but not here
    # fails loudly instead of being dropped without a word.
    fields = {field: every[field] for field in _REQUIRED_FIELDS}
    for column, field in _OPTIONAL_FIELDS.items():
        if column in record.provided:
            fields[field] = every[field]
    return fields


def _sealed(
    values: dict[str, Any],
    current: Mapping[str, Any] | None,
    keyring: CredentialKeyring,
    session: Session,
) -> dict[str, Any]:
    """The fields with each stream URL stored as ``seal`` says, beside its sealed field."""
    for field, sealed_field in _STREAM_FIELDS.items():
        if field not in values:
            continue
        url = values[field]
        if url is None:
            values[sealed_field] = None
            continue
        now = None
        if current is not None and current[field] is not None:
            now = StoredStream(current[field], current[sealed_field])
        stored = seal(url, keyring, session, now)
        values[field], values[sealed_field] = stored.shown, stored.sealed
    return values


def write_import(session: Session, plan: ImportPlan, progress: Progress | None = None) -> None:
    total = len(plan.inserts) + len(plan.updates)
    done = 0
    for statement, rows in ((insert(Camera), plan.inserts), (update(Camera), plan.updates)):
        for start in range(0, len(rows), WRITE_BATCH):
            batch = rows[start : start + WRITE_BATCH]
            session.execute(statement, list(batch))
            done += len(batch)
            if progress is not None:
                progress("writing", done, total)


def read_cameras(
    session: Session,
    district_ids: Collection[int] | None = None,
    keyring: CredentialKeyring | None = None,
) -> RegistryExport:
    """Every camera (or those of the given districts) as registry records, ordered by code.

    Stream URLs have their passwords hidden; with a ``keyring``, they are whole.
    """
    query = (
        select(
            Camera.code,
            Camera.name,
            Camera.latitude,
            Camera.longitude,
            Camera.district_id,
            Camera.main_stream_url,
            Camera.address,
            Site.code.label("site_code"),
            Camera.sub_stream_url,
            Camera.status,
            Camera.installed_at,
            Camera.vendor,
            Camera.model,
            Camera.firmware,
            District.name.label("district_name"),
            Camera.main_stream_sealed,
            Camera.sub_stream_sealed,
        )
        .join(District, Camera.district_id == District.id)
        .outerjoin(Site, Camera.site_id == Site.id)
        .order_by(Camera.code)
    )
    if district_ids is not None:
        query = query.where(Camera.district_id.in_(district_ids))
    records: list[CameraRecord] = []
    names: dict[int, str] = {}
    for row in session.execute(query):
        fields = row._asdict()
        names[row.district_id] = fields.pop("district_name")
        for field, sealed_field in _STREAM_FIELDS.items():
            stored, sealed = fields[field], fields.pop(sealed_field)
            if stored is not None:
                fields[field] = (
                    without_password(stored)
                    if keyring is None
                    else stream_url(StoredStream(stored, sealed), keyring)
                )
        records.append(CameraRecord(**fields))
    return RegistryExport(tuple(records), names)
