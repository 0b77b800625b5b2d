"""The backup's manifest: what a backup holds (its parts, every file's size and SHA-256),
reading it back and checking a backup against it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safecity.backup.files import Progress, copy_stream, progress_step, walk
from safecity.settings import Settings
from safecity.video.evidence.export import evidence_folder

FORMAT = "safecity-backup/1"
MANIFEST_FILE = "backup.json"
SQLITE_FILE = "database/safecity.sqlite3"
PGDUMP_FILE = "database/safecity.pgdump"
KEY_PARTS = frozenset({"keys", "evidence-key", "evidence-keyring"})


class BackupError(Exception):
    """A backup or restore cannot go on; the message names the file or setting concerned.
    Nothing was written to the target of a refused restore."""


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
    for path in walk(source):
        relative = path.relative_to(source).as_posix()
        if relative != MANIFEST_FILE and relative not in listed:
            raise BackupError(f"{path} is not in {MANIFEST_FILE}: it was added after the backup")
    for entry in manifest.files:
        path = source / entry.path
        if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
            raise BackupError(f"{MANIFEST_FILE} names {entry.path!r}, outside the backup")
        try:
            with path.open("rb") as reader:
                size, digest = copy_stream(reader, None, progress_step(progress, entry.path))
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


def describe(root: Path, relative: str) -> BackupFile:
    with (root / relative).open("rb") as reader:
        size, digest = copy_stream(reader, None, lambda _done: None)
    return BackupFile(path=relative, bytes=size, sha256=digest)


def manifest_bytes(manifest: BackupManifest) -> bytes:
    text = json.dumps(
        manifest.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False
    )
    return (text + "\n").encode("utf-8")
