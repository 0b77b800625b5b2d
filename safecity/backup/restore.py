"""Restoring a backup: check all of it, then write each part where the target's settings say,
bring the schema up to date and re-root the evidence packages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from safecity import __version__
from safecity.audit.log import record as audit
from safecity.backup.database import database_kind, restore_database
from safecity.backup.files import Progress, copy_stream, create_private, make_private, progress_step
from safecity.backup.manifest import (
    KEY_PARTS,
    MANIFEST_FILE,
    BackupError,
    BackupFile,
    BackupManifest,
    Part,
    check_backup,
    parts,
    read_manifest,
)
from safecity.private_files import FILE_MODE, make_folders
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.models import EvidenceExport


@dataclass
class RestoreResult:
    manifest: BackupManifest
    files: int
    bytes: int
    schema_revision: str | None
    relocated_packages: int


def target_contents(settings: Settings, database: Database) -> list[str]:
    """What the target already holds, in words: a restore over it needs --force."""
    held = []
    tables = inspect(database.engine).get_table_names()
    if tables:
        held.append(f"the database {make_url(database.url).render_as_string()} has tables")
    for part in parts(settings):
        if part.is_file and part.source.exists():
            held.append(f"{part.source} exists")
        elif not part.is_file and part.source.is_dir() and any(part.source.iterdir()):
            held.append(f"{part.source} is not empty")
    return held


def restore_backup(
    settings: Settings,
    database: Database,
    source: Path,
    *,
    force: bool,
    actor: str,
    progress: Progress,
) -> RestoreResult:
    """Check the whole backup, then restore it where ``settings`` say; refused (nothing
    written) when a file does not match, the schema is newer than this code, the database
    kind differs, or the target holds data and ``force`` is not given."""
    manifest = read_manifest(source)
    _check_restorable(manifest, database)
    check_backup(source, manifest, progress)
    held = target_contents(settings, database)
    if held and not force:
        raise BackupError(
            "the target already holds data (" + "; ".join(held) + "): restore into an empty "
            "installation, or give --force to overwrite it"
        )
    restore_database(source, manifest, database)
    migrate.upgrade(database, evidence_root=Path(manifest.parts["evidence"]))
    targets = {part.name: part for part in parts(settings)}
    restored = 0
    for entry in manifest.files:
        if entry.path == manifest.database.file:
            continue
        _restore_file(source, entry, _target_of(entry.path, targets, settings), progress)
        restored += entry.bytes
    with database.session() as session:
        relocated = _relocate_packages(session, Path(manifest.parts["evidence"]))
        revision = migrate.current_revision(database)
        audit(
            session,
            action="backup.restored",
            actor=actor,
            target=f"backup:{source.absolute()}",
            details={
                "created_at": manifest.created_at.isoformat(),
                "files": len(manifest.files),
                "bytes": restored,
                "schema_revision": manifest.database.schema_revision,
                "upgraded_to": revision,
                "relocated_packages": relocated,
            },
        )
        session.commit()
    return RestoreResult(manifest, len(manifest.files), restored, revision, relocated)


def _check_restorable(manifest: BackupManifest, database: Database) -> None:
    revision = manifest.database.schema_revision
    known = {
        script.revision for script in ScriptDirectory(str(migrate.MIGRATIONS)).walk_revisions()
    }
    if revision is not None and revision not in known:
        raise BackupError(
            f"the backup's database schema {revision} is unknown to this SafeCity "
            f"({__version__}): restore it with the version that made it "
            f"({manifest.software_version}) or a later one"
        )
    kind = database_kind(database)
    if kind != manifest.database.kind:
        raise BackupError(
            f"the backup holds a {manifest.database.kind} database and the target's settings "
            f"name a {kind} one (database.url): restore onto the same kind"
        )


def _target_of(path: str, targets: dict[str, Part], settings: Settings) -> tuple[Path, bool]:
    """Where a backed-up file goes under the target's settings, and whether it is a key
    (kept for the owner alone)."""
    name, _, rest = path.partition("/")
    if name == "evidence-key":
        return settings.evidence_key_path, True
    if name == "evidence-keyring":
        return settings.evidence_keyring_path / rest, True
    part = targets.get(name)
    if part is None:
        raise BackupError(f"{MANIFEST_FILE} names {path!r}, in no part this SafeCity restores")
    return part.source / rest, name in KEY_PARTS or name == "evidence"


def _restore_file(
    source: Path, entry: BackupFile, target: tuple[Path, bool], progress: Progress
) -> None:
    """Copy beside, check the bytes written against the manifest again, rename into place."""
    path, private = target
    if private:
        make_private(path.parent)
    else:
        make_folders(path.parent)
    partial = path.with_name(f".{path.name}.restoring")
    with (source / entry.path).open("rb") as reader, create_private(partial) as writer:
        size, digest = copy_stream(reader, writer, progress_step(progress, entry.path))
    if (size, digest) != (entry.bytes, entry.sha256):
        partial.unlink()
        raise BackupError(f"{source / entry.path} changed while it was being restored")
    if not private:
        partial.chmod(FILE_MODE)
    partial.replace(path)


def _relocate_packages(session: Session, old_root: Path) -> int:
    """Packages the export log still names by their absolute path in the backed-up evidence
    folder are named relative to it, so that they are found in this one."""
    moved = 0
    for export in session.scalars(select(EvidenceExport)):
        path = Path(export.path)
        if path.is_absolute() and path.is_relative_to(old_root):
            export.path = path.relative_to(old_root).as_posix()
            moved += 1
    return moved
