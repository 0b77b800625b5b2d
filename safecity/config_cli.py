"""`safecity config`: the settings as they stand, and the settings file's schema."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from safecity.cli_options import ConfigOption
from safecity.cli_support import settings_or_exit
from safecity.settings import Settings

app = typer.Typer(help="Configuration file and environment.", no_args_is_help=True)
console = Console()


@app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the settings and print the effective values."""
    settings = settings_or_exit(config)
    shown = settings.model_dump(mode="json")
    database_url = make_url(settings.database_url).render_as_string(hide_password=True)
    shown["database"]["url"] = database_url if settings.database.url else None
    console.print_json(json.dumps(shown))
    console.print(f"database: {database_url}\nmedia: {settings.media_path}")


@app.command("schema")
def config_schema() -> None:
    """Print the JSON schema of the settings file (every key with its description)."""
    console.print_json(json.dumps(Settings.model_json_schema()))
