"""The database in a backup: SQLite's online backup, or PostgreSQL's pg_dump and pg_restore
(the password in the environment, never on the command line)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import URL, make_url

from safecity.backup.manifest import BackupError, BackupManifest
from safecity.private_files import make_folders
from safecity.store.engine import Database


def database_kind(database: Database) -> Literal["sqlite", "postgresql"]:
    backend = make_url(database.url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"cannot back up a {backend} database: SQLite and PostgreSQL only")


def sqlite_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("the SQLite database is in memory: there is no file to back up")
    return Path(name)


def sqlite_copy(source: Path, target: Path) -> None:
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


def pg_dump(url: str, target: Path) -> None:
    uri, environment = _libpq(url)
    _run([_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={uri}"], environment)


def _run(command: list[str], environment: dict[str, str]) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        name = Path(command[0]).name
        raise BackupError(f"{name} failed (exit {result.returncode}): {result.stderr.strip()}")


def restore_database(source: Path, manifest: BackupManifest, database: Database) -> None:
    dump = source / manifest.database.file
    if manifest.database.kind == "sqlite":
        target = sqlite_path(database.url)
        make_folders(target.parent)
        database.dispose()
        sqlite_copy(dump, target)
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
