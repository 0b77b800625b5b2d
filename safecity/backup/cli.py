"""`safecity backup create|restore`: the whole installation into a folder, and back.

Both are audited: ``create`` in the database it copied (after the copy), ``restore`` in the
restored database. Exit status 1 with the reason for a refusal; a refused restore wrote
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from sqlalchemy.exc import SQLAlchemyError

from safecity.backup.create import create_backup
from safecity.backup.files import Progress as Step
from safecity.backup.manifest import BackupError, read_manifest
from safecity.backup.restore import restore_backup
from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    cli_actor,
    database_or_exit,
    errors,
    settings_or_exit,
)

app = typer.Typer(
    help="Backups: database, media, evidence and keys, restorable on another machine.",
    no_args_is_help=True,
)


@contextmanager
def _bar(console: Console, verb: str, total: int | None) -> Iterator[Step]:
    columns = (
        TextColumn(f"{verb} [dim]{{task.fields[path]}}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    # Drawn only on a terminal: in a log a bar is noise.
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task(verb, total=total, path="")

        def step(path: str, done: int) -> None:
            progress.update(task, advance=done, path=path)

        yield step


@app.command("create")
def create_command(
    destination: Annotated[
        Path, typer.Argument(help="A new (or empty) folder to write the backup into.")
    ],
    config: ConfigOption = None,
) -> None:
    """Back up the database, media (recordings, snapshots, attachments), evidence packages and
    the keys folder (evidence keyring included), with a manifest of every file's SHA-256."""
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    console = Console(soft_wrap=True)
    try:
        with _bar(console, "backing up", None) as step:
            result = create_backup(
                settings, database, destination, actor=cli_actor(), progress=step
            )
    except BackupError as exc:
        errors.print(f"[red]no backup:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error, no backup:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    manifest = result.manifest
    console.print(
        f"backup {escape(str(result.folder))}: {len(manifest.files)} files, "
        f"{result.bytes / 2**20:.1f} MiB, {manifest.database.kind} database at schema "
        f"{manifest.database.schema_revision}",
        highlight=False,
    )
    for line in result.skipped:
        console.print(f"[yellow]not included:[/yellow] {escape(line)}", highlight=False)


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="The backup folder (it holds backup.json).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Restore over an installation that already holds data (replaced)."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Restore a backup where this machine's settings put the data (another data folder or
    path is fine): every file is checked against the manifest first, then the database, media,
    evidence and keys are written, the schema brought up to date and evidence packages
    recorded relative to the new evidence folder."""
    settings = settings_or_exit(config)
    console = Console(soft_wrap=True)
    try:
        manifest = read_manifest(source)
    except BackupError as exc:
        errors.print(f"[red]not restored:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    database = database_or_exit(settings, require_current=False)
    total = 2 * sum(entry.bytes for entry in manifest.files)  # checked, then copied
    try:
        with _bar(console, "restoring", total) as step:
            result = restore_backup(
                settings, database, source, force=force, actor=cli_actor(), progress=step
            )
    except BackupError as exc:
        errors.print(f"[red]not restored:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error during the restore:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    console.print(
        f"restored {result.files} files from the backup of "
        f"{result.manifest.created_at.isoformat()} (schema {result.schema_revision}, "
        f"{result.relocated_packages} evidence packages re-pointed to this evidence folder)",
        highlight=False,
    )
    if (manifest.city_name, manifest.timezone) != (settings.city_name, settings.timezone):
        console.print(
            f"[yellow]note:[/yellow] the backup is of {escape(manifest.city_name)} "
            f"({manifest.timezone}); these settings say {escape(settings.city_name)} "
            f"({settings.timezone}): set city_name and timezone as on the old server",
            highlight=False,
        )
    console.print("now check: safecity audit verify; safecity evidence verify PACKAGE")
