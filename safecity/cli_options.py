"""Options every `safecity` command shares, apart from ``safecity.cli_support``'s helpers so
that a command can declare them without loading the settings and the database first (the demo
says what it does from its first second)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="YAML settings file (default: ./safecity.yaml if present)."
    ),
]
