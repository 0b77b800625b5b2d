"""Reading and changing the stored incident types: the lookups incidents need, one type saved
(a checklist change becomes its next version), a whole file applied, and the file exported.

Every change takes the incident types' turn first (``TYPES_LOCK``, a lock of their own): two
admins saving the same type's checklist at once would otherwise both write the same version.
Auditing is the caller's (the API or the CLI knows who acts and from where).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from safecity.ops.incident_types import IncidentType, RetiredIncidentType, UnknownIncidentType
from safecity.ops.incident_types.file import serialise_incident_types
from safecity.ops.incident_types.models import ChecklistVersion, StoredIncidentType
from safecity.ops.models import incident_checklists
from safecity.store.locks import hold_key_lock

TYPES_LOCK = "ops:incident-types"


def take_types_turn(session: Session) -> None:
    """Changes to the incident types take turns until this transaction ends (re-entrant)."""
    hold_key_lock(session, TYPES_LOCK)


@dataclass(frozen=True)
class TypeChange:
    """What saving one type changed: created, the fields edited, the new checklist version."""

    code: str
    created: bool = False
    fields: tuple[str, ...] = ()
    checklist_version: int | None = None

    @property
    def changed(self) -> bool:
        return self.created or bool(self.fields) or self.checklist_version is not None


@dataclass
class ImportReport:
    """What applying a file did (or, in a dry run, would do), by type code."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    new_checklists: dict[str, int] = field(default_factory=dict)
    """Type code → the checklist version the file made current."""
    deactivated: list[str] = field(default_factory=list)
    """Missing from the file (or marked inactive) while incidents use them: kept, retired."""
    deleted: list[str] = field(default_factory=list)
    """Missing from the file and never used by an incident."""
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated or self.deleted)

    def as_details(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "new_checklists": self.new_checklists,
            "deactivated": self.deactivated,
            "deleted": self.deleted,
        }


def all_types(session: Session) -> list[StoredIncidentType]:
    """Every stored type, retired ones too, with its checklist versions, by name."""
    return list(
        session.scalars(
            select(StoredIncidentType)
            .options(selectinload(StoredIncidentType.checklists))
            .order_by(StoredIncidentType.name, StoredIncidentType.code)
        )
    )


def find_type(session: Session, code: str) -> StoredIncidentType | None:
    return session.scalars(
        select(StoredIncidentType).where(StoredIncidentType.code == code)
    ).first()


def type_for_new_incident(session: Session, code: str) -> StoredIncidentType:
    """The type a new incident is opened with; raises UnknownIncidentType (naming the types
    on offer) or RetiredIncidentType."""
    found = find_type(session, code)
    if found is None:
        offered = session.scalars(
            select(StoredIncidentType.code)
            .where(StoredIncidentType.active.is_(True))
            .order_by(StoredIncidentType.code)
        )
        raise UnknownIncidentType(f"unknown incident type {code!r}; known: {', '.join(offered)}")
    if not found.active:
        raise RetiredIncidentType(
            f"incident type {code!r} is deactivated: it names old incidents but opens no new ones"
        )
    return found


def in_use(session: Session, stored: StoredIncidentType) -> bool:
    return bool(
        session.scalar(
            select(
                exists()
                .where(incident_checklists.c.checklist_id == ChecklistVersion.id)
                .where(ChecklistVersion.type_id == stored.id)
            )
        )
    )


def save_type(session: Session, kind: IncidentType, *, author: str) -> TypeChange:
    """Create the type, or bring the stored one with its code to ``kind``: a different
    checklist becomes the next version; incidents keep the versions they were opened with."""
    take_types_turn(session)
    stored = find_type(session, kind.code)
    if stored is None:
        stored = StoredIncidentType(
            code=kind.code,
            name=kind.name,
            default_priority=kind.default_priority,
            crime_kind=kind.crime_kind,
            active=kind.active,
            checklists=[ChecklistVersion(version=1, steps=list(kind.checklist), created_by=author)],
        )
        session.add(stored)
        session.flush()
        return TypeChange(kind.code, created=True, checklist_version=1)
    fields = []
    for name, value in (
        ("name", kind.name),
        ("default_priority", kind.default_priority),
        ("crime_kind", kind.crime_kind),
        ("active", kind.active),
    ):
        if getattr(stored, name) != value:
            setattr(stored, name, value)
            fields.append(name)
    version = None
    if tuple(stored.checklist.steps) != kind.checklist:
        version = stored.checklist.version + 1
        stored.checklists.append(
            ChecklistVersion(version=version, steps=list(kind.checklist), created_by=author)
        )
    session.flush()
    return TypeChange(kind.code, fields=tuple(fields), checklist_version=version)


def apply_incident_types(
    session: Session, types: Sequence[IncidentType], *, author: str = "import"
) -> ImportReport:
    """Make the stored types what the file says, matched by code. A type the file leaves out
    is deleted when no incident was ever opened with it, else deactivated: its incidents still
    need its name and their checklists. Checked types only (``parse_incident_types`` without
    problems); the caller commits, or rolls back for a dry run."""
    take_types_turn(session)
    report = ImportReport()
    for kind in types:
        change = save_type(session, kind, author=author)
        if change.created:
            report.created.append(kind.code)
        elif change.changed:
            report.updated.append(kind.code)
        else:
            report.unchanged.append(kind.code)
        if change.checklist_version is not None and not change.created:
            report.new_checklists[kind.code] = change.checklist_version
    listed = {kind.code for kind in types}
    for stored in all_types(session):
        if stored.code in listed:
            continue
        if in_use(session, stored):
            if stored.active:
                stored.active = False
                report.deactivated.append(stored.code)
            else:
                report.unchanged.append(stored.code)
        else:
            session.delete(stored)
            report.deleted.append(stored.code)
    session.flush()
    return report


def export_incident_types(session: Session) -> bytes:
    """The stored types as an ``incident_types.yaml`` file, retired ones included (marked
    ``active: false``), each with its current checklist."""
    return serialise_incident_types([stored.as_type() for stored in all_types(session)])
