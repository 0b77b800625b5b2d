"""What every `safecity` command needs: the settings, and a database it may use as it is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from safecity.private_files import tighten
from safecity.settings import ConfigError, Settings, load_settings
from safecity.store import migrate
from safecity.store.engine import Database

errors = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="YAML settings file (default: ./safecity.yaml if present)."
    ),
]


def settings_or_exit(config: Path | None) -> Settings:
    """The settings, or exit 2 naming the file, the key and what was expected."""
    try:
        return load_settings(config)
    except ConfigError as exc:
        errors.print(f"[red]configuration error[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


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
        database.dispose()
        errors.print(
            f"database schema is not up to date ({current or 'empty'}, code needs {head}): "
            "run `safecity db upgrade`"
        )
        raise typer.Exit(1)
    return database
