"""Making a backup: the database first, then media, evidence and keys, then the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from safecity import __version__
from safecity.audit.log import record as audit
from safecity.backup.database import database_kind, pg_dump, sqlite_copy, sqlite_path
from safecity.backup.files import (
    PRIVATE_FILE,
    Progress,
    copy_stream,
    create_private,
    make_private,
    make_private_parents,
    progress_step,
    walk,
    write_private,
)
from safecity.backup.manifest import (
    FORMAT,
    MANIFEST_FILE,
    PGDUMP_FILE,
    SQLITE_FILE,
    BackupDatabase,
    BackupError,
    BackupFile,
    BackupManifest,
    Part,
    describe,
    manifest_bytes,
    parts,
)
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.evidence.export import evidence_folder
from safecity.video.models import EvidenceExport


@dataclass
class BackupResult:
    folder: Path
    manifest: BackupManifest
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)


def create_backup(
    settings: Settings, database: Database, destination: Path, *, actor: str, progress: Progress
) -> BackupResult:
    """Copy the database, then media, evidence and keys into ``destination`` (a new or empty
    folder), then write the manifest; audit it in the database backed up."""
    _check_empty_destination(destination)
    make_private(destination)
    kind = database_kind(database)
    revision = migrate.current_revision(database)
    skipped = _packages_outside(settings, database)
    database_file = SQLITE_FILE if kind == "sqlite" else PGDUMP_FILE
    progress(database_file, 0)
    make_private(destination / "database")
    if kind == "sqlite":
        sqlite_copy(sqlite_path(database.url), destination / database_file)
    else:
        pg_dump(database.url, destination / database_file)
    (destination / database_file).chmod(PRIVATE_FILE)
    files = [describe(destination, database_file)]
    for part in parts(settings):
        files += _copy_part(part, destination, progress, skipped)
    manifest = BackupManifest(
        format=FORMAT,
        created_at=datetime.now(UTC).replace(microsecond=0),
        software_version=__version__,
        city_name=settings.city_name,
        timezone=settings.timezone,
        database=BackupDatabase(kind=kind, file=database_file, schema_revision=revision),
        parts={part.name: str(part.source.absolute()) for part in parts(settings)},
        files=files,
        skipped=skipped,
    )
    write_private(destination / MANIFEST_FILE, manifest_bytes(manifest))
    total = sum(entry.bytes for entry in files)
    with database.session() as session:
        audit(
            session,
            action="backup.created",
            actor=actor,
            target=f"backup:{destination.absolute()}",
            details={"files": len(files), "bytes": total, "schema_revision": revision},
        )
        session.commit()
    return BackupResult(destination, manifest, total, skipped)


def _check_empty_destination(destination: Path) -> None:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} exists and is not an empty folder: choose a new one")


def _packages_outside(settings: Settings, database: Database) -> list[str]:
    """Packages the export log keeps outside the evidence folder (written with --out): the
    backup cannot know that folder, so it says it leaves them out."""
    with database.session() as session:
        paths = session.scalars(select(EvidenceExport.path)).all()
    return [
        f"evidence package {path}: outside the evidence folder, not included"
        for path in paths
        if Path(path).is_absolute()
        and not Path(path).is_relative_to(evidence_folder(settings).absolute())
    ]


def _copy_part(
    part: Part, destination: Path, progress: Progress, skipped: list[str]
) -> list[BackupFile]:
    if part.is_file:
        sources = [part.source] if part.source.is_file() else []
    else:
        sources = list(walk(part.source)) if part.source.is_dir() else []
    copied = []
    for source in sources:
        relative = (
            f"{part.name}/{source.name}"
            if part.is_file
            else f"{part.name}/{source.relative_to(part.source).as_posix()}"
        )
        target = destination / relative
        make_private_parents(target, destination)
        try:
            with source.open("rb") as reader, create_private(target) as writer:
                size, digest = copy_stream(reader, writer, progress_step(progress, relative))
        except FileNotFoundError:
            skipped.append(f"{source}: deleted while the backup ran")
            target.unlink(missing_ok=True)
            continue
        copied.append(BackupFile(path=relative, bytes=size, sha256=digest))
    return copied
