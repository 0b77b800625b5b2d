"""Writing a checked police statistics file: one transaction, records upserted by their
register number, so importing the same file again changes nothing and a corrected file
updates the rows it corrects."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safecity.city.districts import stored_district_locator
from safecity.city.registry.store import district_keys
from safecity.insights.crimes.file import CrimeRow, Districts, ParsedFile, Validation, validate
from safecity.insights.models import CrimeRecord, CrimeSource

Progress = Callable[[str, int, int], None]
"""Told (phase, done, total) as an import goes: phases "checking" and "writing"."""
_CHUNK = 500
_FIELDS = tuple(field.name for field in fields(CrimeRow) if field.name != "code")


class ConcurrentImport(Exception):
    """Another import wrote some of the same new register numbers first (a unique code taken
    between this import's look-up and its write); the caller's transaction must be undone."""

    def __init__(self) -> None:
        super().__init__(
            "another import wrote these register numbers at the same time; import again"
        )


class ImportOutcome(enum.StrEnum):
    WRITTEN = "written"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    """Bad rows and no ``skip_invalid``: nothing written."""


@dataclass(frozen=True)
class ImportReport:
    outcome: ImportOutcome
    validation: Validation
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def skipped(self) -> int:
        return len(self.validation.bad_lines) if self.outcome is not ImportOutcome.REJECTED else 0


def load_districts(session: Session) -> Districts:
    """The districts as they are now; ValueError on an unusable polygon."""
    return Districts(stored_district_locator(session), district_keys(session))


def import_file(
    session: Session,
    parsed: ParsedFile,
    *,
    zone: tzinfo,
    now: datetime,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row and upsert the good ones by code in the caller's transaction. With any
    bad row and no ``skip_invalid`` nothing is written; ``dry_run`` counts what would change.
    ConcurrentImport when another import wrote one of the new codes first (roll back)."""
    total = len(parsed.rows)
    if progress:
        progress("checking", 0, total)
    validation = validate(parsed, load_districts(session), zone, now)
    if progress:
        progress("checking", total, total)
    if validation.problems and not skip_invalid:
        return ImportReport(ImportOutcome.REJECTED, validation)
    created = updated = unchanged = 0
    rows = validation.rows
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        stored = _stored(session, chunk)
        for row in chunk:
            record = stored.get(row.code)
            if record is None:
                created += 1
                if not dry_run:
                    session.add(
                        CrimeRecord(code=row.code, source=CrimeSource.REGISTER, **_values(row))
                    )
            elif all(getattr(record, name) == value for name, value in _values(row).items()):
                unchanged += 1
            else:
                updated += 1
                if not dry_run:
                    for name, value in _values(row).items():
                        setattr(record, name, value)
        if not dry_run:
            try:
                session.flush()
            except IntegrityError as exc:
                raise ConcurrentImport from exc
        if progress:
            progress("writing", min(start + _CHUNK, len(rows)), len(rows))
    outcome = ImportOutcome.DRY_RUN if dry_run else ImportOutcome.WRITTEN
    return ImportReport(outcome, validation, created, updated, unchanged)


def _values(row: CrimeRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in _FIELDS}


def _stored(session: Session, rows: Sequence[CrimeRow]) -> dict[str, CrimeRecord]:
    codes = [row.code for row in rows]
    return {
        record.code: record
        for record in session.scalars(select(CrimeRecord).where(CrimeRecord.code.in_(codes)))
    }
