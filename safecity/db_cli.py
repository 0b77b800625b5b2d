"""`safecity db`: the database schema's version, and upgrading it."""

from __future__ import annotations

import typer
from rich.console import Console

from safecity.city.registry import cli as registry_cli
from safecity.cli_options import ConfigOption
from safecity.cli_support import database_or_exit, errors, settings_or_exit
from safecity.store import migrate
from safecity.video.evidence.export import evidence_folder

app = typer.Typer(help="Database schema.", no_args_is_help=True)
console = Console()


@app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the database schema to the version this code needs, then seal the
    stream passwords still stored in clear (the migrations cannot: the key is kept apart)."""
    settings = settings_or_exit(config)
    database = database_or_exit(settings, require_current=False)
    before = migrate.current_revision(database)
    migrate.upgrade(database, evidence_root=evidence_folder(settings))
    after = migrate.current_revision(database)
    console.print(
        f"database schema: {before or 'empty'} → {after} ({database.engine.url.render_as_string()})"
    )
    registry_cli.seal_and_report(database, settings, console)


@app.command("current")
def db_current(config: ConfigOption = None) -> None:
    """Show the schema version of the database and whether it is the one this code needs.

    Exits 0 when it is, 1 when the schema is behind (or empty: `safecity db upgrade` fixes
    it), 3 when it is one this code does not know (written by a newer SafeCity): a script
    that upgrades or starts SafeCity can tell them apart."""
    database = database_or_exit(settings_or_exit(config), require_current=False)
    current, head = migrate.current_revision(database), migrate.head_revision(database)
    if current == head:
        console.print(f"{current} — up to date")
        return
    if current is not None and not migrate.is_known(database, current):
        errors.print(
            f"{current} — unknown to this SafeCity (it needs {head}): the database was "
            "upgraded by a newer version. Install that version again, or restore the backup "
            "taken before the upgrade (docs/running.md)."
        )
        raise typer.Exit(3)
    errors.print(f"{current or 'empty'} — behind: run `safecity db upgrade` (code needs {head})")
    raise typer.Exit(1)
