"""What every `safecity` command needs: the settings, a database it may use as it is, and an
audit row for every change it makes."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from safecity.audit.log import record
from safecity.demo.data_folder import made_by_the_demo, with_demo_city
from safecity.logs import configure_logging
from safecity.private_files import tighten
from safecity.settings import ConfigError, Settings, load_settings
from safecity.store import migrate
from safecity.store.engine import Database

errors = Console(stderr=True, soft_wrap=True)


def settings_or_exit(config: Path | None) -> Settings:
    """The settings, or exit 2 naming the file, the key and what was expected. Every command
    starts here, so this is where the log is set up as the settings say (safecity/logs.py).

    On a data folder the demo made, the demo city's name and time zone unless chosen: the
    city the demo serves that data as."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        errors.print(f"[red]configuration error[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    configure_logging(settings.logging)
    return with_demo_city(settings) if made_by_the_demo(settings.data_dir) else settings


def database_or_exit(settings: Settings, *, require_current: bool = True) -> Database:
    """The configured database, or exit 1 when it cannot be reached or its schema is older
    than this code (saying which command fixes that). Every command that uses the data starts
    here, so this is where data folders left open to others are closed (the SQLite file is
    closed by ``Database``)."""
    tighten(settings.data_dir, settings.media_path)
    database = Database(settings.database_url, echo=settings.database.echo)
    try:
        current, head = migrate.current_revision(database), migrate.head_revision(database)
    except SQLAlchemyError as exc:
        database.dispose()
        errors.print(f"[red]cannot open the database:[/red] {escape(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from exc
    if require_current and current != head:
        newer = current is not None and not migrate.is_known(database, current)
        database.dispose()
        errors.print(
            f"database schema {current} is unknown to this SafeCity (it needs {head}): the "
            "database was upgraded by a newer version; install that one (docs/running.md)"
            if newer
            else f"database schema is not up to date ({current or 'empty'}, code needs {head}): "
            "run `safecity db upgrade`"
        )
        raise typer.Exit(1)
    return database


def os_login() -> str:
    """The operating-system account running this command: the person at the server.

    Where the system has no name for it (a container's bare uid, no $USER) it is the uid, as
    `id` writes it, so that an audit row still points at an account rather than failing."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid={os.getuid()}"


def cli_actor() -> str:
    """Who the audit log names for a change made at the command line: no one signs in there,
    so it is the login, marked as not a SafeCity user (``cli:<login>``)."""
    return f"cli:{os_login()}"


def audit_cli_change(
    session: Session, *, action: str, target: str, details: Mapping[str, Any]
) -> None:
    """Record a change made by a command in the caller's transaction, so that the row exists
    exactly when the change does. There is no network address to record."""
    record(session, action=action, actor=cli_actor(), target=target, details=details)


@contextmanager
def phase_progress(console: Console) -> Iterator[PhaseProgress]:
    """Progress bars for a long job told ``(phase, done, total)`` ("checking", "writing"…);
    drawn only on a terminal: in a log a progress bar is noise."""
    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        yield PhaseProgress(progress)


class PhaseProgress:
    """One bar per phase, created when the phase starts."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(task, completed=done, total=total)
