"""The `safecity` command: one way to start every SafeCity process and chore."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from safecity.audit import cli as audit_cli
from safecity.auth import users_cli
from safecity.backup import cli as backup_cli
from safecity.city.folder import cli as city_cli
from safecity.city.registry import cli as registry_cli
from safecity.cli_support import (
    ConfigOption,
    database_or_exit,
    errors,
    settings_or_exit,
)
from safecity.ops.dispatch import cli as notifications_cli
from safecity.ops.incident_types import cli as incident_types_cli
from safecity.private_files import restrict_umask
from safecity.settings import Settings
from safecity.store import migrate
from safecity.video.evidence import cli as evidence_cli
from safecity.video.evidence.export import evidence_folder
from safecity.video.recording import cli as recordings_cli

app = typer.Typer(
    help="SafeCity: city-scale video surveillance operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration file and environment.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_cli.app, name="users")
app.add_typer(config_app, name="config")
app.add_typer(registry_cli.app, name="cameras")
app.add_typer(city_cli.app, name="city")
app.add_typer(evidence_cli.app, name="evidence")
app.add_typer(recordings_cli.app, name="recordings")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(notifications_cli.app, name="notifications")
app.add_typer(incident_types_cli.app, name="incident-types")
app.add_typer(backup_cli.app, name="backup")

console = Console()


@db_app.command("upgrade")
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


@db_app.command("current")
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


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[
        str | None, typer.Option(help="Listen address (default from settings).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default from settings).")] = None,
) -> None:
    """Serve the API and the operator console, and ingest and record the cameras chosen by
    the `video.cameras` setting (every active camera by default; 'none' for API only)."""
    from safecity.process import (
        CannotListen,
        listening_socket,
        running_process,
        serve_forever,
        stopped_by_sigterm,
    )
    from safecity.video.node import VideoNodeError

    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    address = (
        host if host is not None else settings.api.host,
        port if port is not None else settings.api.port,
    )
    try:
        with (
            stopped_by_sigterm(),
            listening_socket(*address) as listener,
            running_process(settings, database) as running,
        ):
            serve_forever(running.app, listener, graceful_seconds=5)
    except (CannotListen, VideoNodeError) as exc:
        errors.print(f"[red]serve:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        pass
    finally:
        database.dispose()


@app.command()
def demo(
    config: ConfigOption = None,
    reset: Annotated[
        bool, typer.Option(help="Wipe the demo data folder and build it anew.")
    ] = False,
    cameras: Annotated[
        int, typer.Option(min=0, max=64, help="How many simulated camera streams to run.")
    ] = 6,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8080).")] = None,
) -> None:
    """Run the whole platform on embedded defaults with a demo city and simulated cameras."""
    from safecity.demo.runner import DemoError, run_demo

    try:
        run_demo(settings_or_exit(config), reset=reset, cameras=cameras, port=port)
    except DemoError as exc:
        errors.print(f"[red]demo:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the settings and print the effective values."""
    settings = settings_or_exit(config)
    shown = settings.model_dump(mode="json")
    database_url = make_url(settings.database_url).render_as_string(hide_password=True)
    shown["database"]["url"] = database_url if settings.database.url else None
    console.print_json(json.dumps(shown))
    console.print(f"database: {database_url}\nmedia: {settings.media_path}")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON schema of the settings file (every key with its description)."""
    console.print_json(json.dumps(Settings.model_json_schema()))


def main() -> None:
    # Before any command: whatever SafeCity or FFmpeg or SQLite creates is then for SafeCity's
    # user and group alone (safecity/private_files.py).
    restrict_umask()
    app()
