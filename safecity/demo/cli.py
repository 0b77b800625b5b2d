"""`safecity demo`: the whole platform on a demo city with simulated cameras."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from safecity.cli_options import ConfigOption
from safecity.demo.progress import StartUp

app = typer.Typer(add_completion=False)  # the `safecity` command has it


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
    progress = StartUp(Console())
    # The settings, the database and the video stack take seconds to load on a cold start:
    # imported here, under a line that says so, rather than before anything is shown.
    with progress.step("Loading SafeCity") as step:
        from safecity.cli_support import errors, settings_or_exit

        settings = settings_or_exit(config)
        from safecity.demo.runner import DemoError, run_demo

        step.done = "Loaded SafeCity"
    try:
        run_demo(settings, reset=reset, cameras=cameras, port=port, progress=progress)
    except DemoError as exc:
        errors.print(f"[red]demo:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
