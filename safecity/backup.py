"""Backup and restore of a whole installation: database, media, evidence and keys.

A city moves its OCC to a new server, or rebuilds one after a disk died: what it needs is the
database, the recordings, snapshots and attachments (the media folder), the evidence packages,
and the keys (the evidence keyring, and any other key in the data folder's ``keys`` folder).
Without the keys the evidence signed so far could not be checked against this installation's
key and new packages would need a new one. A backup is a folder::

    backup.json          the manifest: format, when, SafeCity's version, the schema revision,
                         the database kind, where each part came from, and every file's size
                         and SHA-256
    database/            safecity.sqlite3 (SQLite's online backup) or safecity.pgdump
                         (pg_dump's custom format)
    media/  evidence/  keys/  [evidence-key/  evidence-keyring/]
                         copies of those folders (the last two only where the settings put the
                         evidence key or keyring outside the keys folder)

The database is copied first: every recording and package it names was on disk before the
copy of the folders began, so a restore finds them (a file deleted meanwhile, say by
retention, is listed as skipped). Hidden files (work in progress: a package being written, a
key being replaced) are left out. The backup holds keys and video of people: folders 0700,
files 0600.

A restore checks every file against the manifest before it writes anything, refuses a target
that already holds data unless forced, and may go to another machine and other paths: it puts
each part where the target's settings say, brings the schema up to date and records evidence
packages relative to the new evidence folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from alembic.script import ScriptDirectory
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from safecity import __version__
from safecity.audit.log import record as audit
from safecity.private_files import FILE_MODE, make_folders
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.evidence.export import evidence_folder
from safecity.video.models import EvidenceExport

FORMAT = "safecity-backup/1"
MANIFEST_FILE = "backup.json"
SQLITE_FILE = "database/safecity.sqlite3"
PGDUMP_FILE = "database/safecity.pgdump"
_CHUNK = 1024 * 1024
_PRIVATE_FOLDER, _PRIVATE_FILE = 0o700, 0o600
_KEY_PARTS = frozenset({"keys", "evidence-key", "evidence-keyring"})

Progress = Callable[[str, int], None]
"""Told what is being done (a file's path in the backup) and how many bytes were done."""


class BackupError(Exception):
    """A backup or restore cannot go on; the message names the file or setting concerned.
    Nothing was written to the target of a refused restore."""


# --- the manifest -----------------------------------------------------------------------------


class BackupFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="Path inside the backup, POSIX form.")
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class BackupDatabase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sqlite", "postgresql"]
    file: str
    schema_revision: str | None


class BackupManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["safecity-backup/1"]
    created_at: datetime
    software_version: str
    city_name: str
    timezone: str
    database: BackupDatabase
    parts: dict[str, str]
    """Each part's folder (or file) on the machine backed up: where restored paths came from."""
    files: list[BackupFile]
    skipped: list[str] = Field(default_factory=list)
    """What could not be included, in words (a file deleted during the backup, a package
    written outside the evidence folder)."""


@dataclass(frozen=True)
class Part:
    name: str
    source: Path
    is_file: bool = False


def parts(settings: Settings) -> list[Part]:
    """What a backup holds besides the database, and where each lives under ``settings``."""
    keys = settings.data_dir / "keys"
    found = [
        Part("media", settings.media_path),
        Part("evidence", evidence_folder(settings)),
        Part("keys", keys),
    ]
    if not settings.evidence_key_path.absolute().is_relative_to(keys.absolute()):
        found.append(Part("evidence-key", settings.evidence_key_path, is_file=True))
    if not settings.evidence_keyring_path.absolute().is_relative_to(keys.absolute()):
        found.append(Part("evidence-keyring", settings.evidence_keyring_path))
    return found


# --- create -----------------------------------------------------------------------------------


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
    _make_private(destination)
    kind = _database_kind(database)
    revision = migrate.current_revision(database)
    skipped = _packages_outside(settings, database)
    database_file = SQLITE_FILE if kind == "sqlite" else PGDUMP_FILE
    progress(database_file, 0)
    _make_private(destination / "database")
    if kind == "sqlite":
        _sqlite_copy(_sqlite_path(database.url), destination / database_file)
    else:
        _pg_dump(database.url, destination / database_file)
    (destination / database_file).chmod(_PRIVATE_FILE)
    files = [_describe(destination, database_file)]
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
    _write_private(destination / MANIFEST_FILE, _manifest_bytes(manifest))
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


def _database_kind(database: Database) -> Literal["sqlite", "postgresql"]:
    backend = make_url(database.url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"cannot back up a {backend} database: SQLite and PostgreSQL only")


def _sqlite_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("the SQLite database is in memory: there is no file to back up")
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while SafeCity keeps writing (and, restoring,
    a copy that replaces whatever the target file held)."""
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    # closing(): sqlite3's own context manager only ends the transaction.
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URI pg_dump and pg_restore take, and the environment that carries the
    password (never on the command line, where `ps` shows it)."""
    parsed: URL = make_url(url)
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's major "
            "version (Debian/Ubuntu: apt install postgresql-client)"
        )
    return found


def _pg_dump(url: str, target: Path) -> None:
    uri, environment = _libpq(url)
    _run([_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={uri}"], environment)


def _run(command: list[str], environment: dict[str, str]) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        name = Path(command[0]).name
        raise BackupError(f"{name} failed (exit {result.returncode}): {result.stderr.strip()}")


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


def _walk(root: Path) -> Iterator[Path]:
    """Files under ``root``, sorted, hidden ones and symbolic links left out."""
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if not name.startswith(".") and not path.is_symlink():
                yield path


def _copy_part(
    part: Part, destination: Path, progress: Progress, skipped: list[str]
) -> list[BackupFile]:
    if part.is_file:
        sources = [part.source] if part.source.is_file() else []
    else:
        sources = list(_walk(part.source)) if part.source.is_dir() else []
    copied = []
    for source in sources:
        relative = (
            f"{part.name}/{source.name}"
            if part.is_file
            else f"{part.name}/{source.relative_to(part.source).as_posix()}"
        )
        target = destination / relative
        _make_private_parents(target, destination)
        try:
            with source.open("rb") as reader, _create_private(target) as writer:
                size, digest = _copy(reader, writer, _step(progress, relative))
        except FileNotFoundError:
            skipped.append(f"{source}: deleted while the backup ran")
            target.unlink(missing_ok=True)
            continue
        copied.append(BackupFile(path=relative, bytes=size, sha256=digest))
    return copied


def _copy(
    reader: IO[bytes], writer: IO[bytes] | None, step: Callable[[int], None]
) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := reader.read(_CHUNK):
        digest.update(chunk)
        if writer is not None:
            writer.write(chunk)
        size += len(chunk)
        step(len(chunk))
    return size, digest.hexdigest()


def _describe(root: Path, relative: str) -> BackupFile:
    with (root / relative).open("rb") as reader:
        size, digest = _copy(reader, None, lambda _done: None)
    return BackupFile(path=relative, bytes=size, sha256=digest)


def _manifest_bytes(manifest: BackupManifest) -> bytes:
    text = json.dumps(
        manifest.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False
    )
    return (text + "\n").encode("utf-8")


def _make_private(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=_PRIVATE_FOLDER)
    folder.chmod(_PRIVATE_FOLDER)  # mkdir's mode is cut by the umask


def _make_private_parents(target: Path, root: Path) -> None:
    missing = []
    folder = target.parent
    while not folder.exists() and folder != root:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        _make_private(each)


def _create_private(path: Path) -> IO[bytes]:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE)
    try:
        os.fchmod(descriptor, _PRIVATE_FILE)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "wb")


def _write_private(path: Path, data: bytes) -> None:
    with _create_private(path) as file:
        file.write(data)


def _step(progress: Progress, path: str) -> Callable[[int], None]:
    return lambda done: progress(path, done)


# --- restore ----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: BackupManifest
    files: int
    bytes: int
    schema_revision: str | None
    relocated_packages: int


def read_manifest(source: Path) -> BackupManifest:
    path = source / MANIFEST_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise BackupError(f"{path} is missing: {source} is not a SafeCity backup") from exc
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return BackupManifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise BackupError(f"{path} is not a {FORMAT} manifest ({where}: {first['msg']})") from exc


def check_backup(source: Path, manifest: BackupManifest, progress: Progress) -> None:
    """Every file the manifest lists is there with its size and SHA-256, and nothing else is:
    BackupError naming the first file that is not."""
    listed = {entry.path for entry in manifest.files}
    for path in _walk(source):
        relative = path.relative_to(source).as_posix()
        if relative != MANIFEST_FILE and relative not in listed:
            raise BackupError(f"{path} is not in {MANIFEST_FILE}: it was added after the backup")
    for entry in manifest.files:
        path = source / entry.path
        if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
            raise BackupError(f"{MANIFEST_FILE} names {entry.path!r}, outside the backup")
        try:
            with path.open("rb") as reader:
                size, digest = _copy(reader, None, _step(progress, entry.path))
        except FileNotFoundError as exc:
            raise BackupError(f"{path} is missing from the backup") from exc
        except OSError as exc:
            raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
        if (size, digest) != (entry.bytes, entry.sha256):
            raise BackupError(
                f"{path} does not match {MANIFEST_FILE}: it has {size} bytes with SHA-256 "
                f"{digest}, the manifest says {entry.bytes} bytes with SHA-256 {entry.sha256}; "
                "the backup was altered or damaged, nothing was restored"
            )


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
    _restore_database(source, manifest, database)
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
    kind = _database_kind(database)
    if kind != manifest.database.kind:
        raise BackupError(
            f"the backup holds a {manifest.database.kind} database and the target's settings "
            f"name a {kind} one (database.url): restore onto the same kind"
        )


def _restore_database(source: Path, manifest: BackupManifest, database: Database) -> None:
    dump = source / manifest.database.file
    if manifest.database.kind == "sqlite":
        target = _sqlite_path(database.url)
        make_folders(target.parent)
        database.dispose()
        _sqlite_copy(dump, target)
        return
    uri, environment = _libpq(database.url)
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={uri}",
            str(dump),
        ],
        environment,
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
    return part.source / rest, name in _KEY_PARTS or name == "evidence"


def _restore_file(
    source: Path, entry: BackupFile, target: tuple[Path, bool], progress: Progress
) -> None:
    """Copy beside, check the bytes written against the manifest again, rename into place."""
    path, private = target
    if private:
        _make_private(path.parent)
    else:
        make_folders(path.parent)
    partial = path.with_name(f".{path.name}.restoring")
    with (source / entry.path).open("rb") as reader, _create_private(partial) as writer:
        size, digest = _copy(reader, writer, _step(progress, entry.path))
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
