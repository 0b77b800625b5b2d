"""`safecity serve`: the API, the console, ingest and recording in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from safecity.cli_options import ConfigOption
from safecity.cli_support import database_or_exit, errors, settings_or_exit
from safecity.process import (
    CannotListen,
    listening_socket,
    running_process,
    serve_forever,
    stopped_by_sigterm,
)
from safecity.video.node import VideoNodeError

app = typer.Typer(add_completion=False)  # the `safecity` command has it


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
