"""The `safecity` command: one way to start every SafeCity process and chore.

Each command lives in its own module, imported only when that command runs or shows its own
help: `safecity --help` and a command's start-up load what they use, not every capability
(the video stack, the web app, the database engine). The list below gives each command's help
as its module says it, so that `safecity --help` can show it without importing the module;
tests/test_cli.py checks that the two agree.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer

# Typer carries its own click (typer._click); its groups and commands are of those classes.
from typer._click import Command as ClickCommand
from typer._click import Context, HelpFormatter
from typer.core import TyperCommand, TyperGroup

from safecity.private_files import restrict_umask


@dataclass(frozen=True)
class Command:
    module: str
    """The module whose ``app`` (a ``typer.Typer``) implements the command."""
    help: str
    group: bool = True
    """A group of sub-commands (``safecity db upgrade``) rather than a command of its own."""


COMMANDS: dict[str, Command] = {
    "serve": Command(
        "safecity.serve_cli",
        "Serve the API and the operator console, and ingest and record the cameras chosen by\n"
        "the `video.cameras` setting (every active camera by default; 'none' for API only).",
        group=False,
    ),
    "demo": Command(
        "safecity.demo.cli",
        "Run the whole platform on embedded defaults with a demo city and simulated cameras.",
        group=False,
    ),
    "db": Command("safecity.db_cli", "Database schema."),
    "users": Command("safecity.auth.users_cli", "People who sign in to SafeCity."),
    "config": Command("safecity.config_cli", "Configuration file and environment."),
    "cameras": Command(
        "safecity.city.registry.cli", "The camera registry: import and export CSV or GeoJSON files."
    ),
    "city": Command(
        "safecity.city.folder.cli",
        "The city as a folder: districts, organizations, police units, sites and cameras.",
    ),
    "requests": Command(
        "safecity.planning.requests.cli",
        "Camera installation requests: import and export CSV files.",
    ),
    "evidence": Command(
        "safecity.video.evidence.cli",
        "Evidence packages: a clip with a signed manifest, for police and courts.",
    ),
    "recordings": Command(
        "safecity.video.recording.cli",
        "Recorded video: retention, retention policies and legal holds.",
    ),
    "audit": Command("safecity.audit.cli", "The audit log: who saw, exported or changed what."),
    "notifications": Command(
        "safecity.ops.dispatch.cli",
        "Notices to police units (MQTT, webhooks): what waits, what failed.",
    ),
    "crimes": Command(
        "safecity.insights.crimes.cli",
        "Crime records from the police register.",
    ),
    "incident-types": Command(
        "safecity.ops.incident_types.cli",
        "Incident types and their SOP checklists: import and export a YAML file.",
    ),
    "models": Command(
        "safecity.analytics.assets.cli",
        "Pinned detector models and sample footage: fetch, list and verify the local cache.",
    ),
    "analytics": Command(
        "safecity.analytics.cli",
        "Video analytics: run the camera analytics on a recorded file.",
    ),
    "report": Command(
        "safecity.reports.cli",
        "A city or district report for a period (crime figures with their changes, before and\n"
        "after the cameras, hot spots, KPIs, the camera fleet, incidents, camera requests; charts\n"
        "and maps) as a PDF or a self-contained HTML page.",
        group=False,
    ),
    "backup": Command(
        "safecity.backup.cli",
        "Backups: database, media, evidence and keys, restorable on another machine.",
    ),
}


def load(name: str) -> ClickCommand:
    """The command ``name`` itself, its module imported."""
    command = COMMANDS[name]
    implementation = importlib.import_module(command.module).app
    loaded = (
        typer.main.get_group(implementation)
        if command.group
        else typer.main.get_command(implementation)
    )
    loaded.name = name
    return loaded


class _Commands(TyperGroup):
    """The commands of ``COMMANDS``, each loaded when it is used; listed in help unloaded."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> ClickCommand | None:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help)
        return load(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=_Commands,
    help="SafeCity: city-scale video surveillance operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def safecity() -> None:
    """Makes ``app`` a group whose commands come from ``COMMANDS``."""


def main() -> None:
    # Before any command: whatever SafeCity or FFmpeg or SQLite creates is then for SafeCity's
    # user and group alone (safecity/private_files.py).
    restrict_umask()
    app()
