"""`safecity recordings retention|holds`: run retention by hand and see what holds keep."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from safecity.cli_support import ConfigOption, database_or_exit, errors, settings_or_exit
from safecity.store.base import utcnow
from safecity.video.holds import list_holds
from safecity.video.retention import DiskSpace
from safecity.video.retention_keeper import (
    PurgeSummary,
    RetentionError,
    RetentionKeeper,
    format_bytes,
)

app = typer.Typer(help="Recorded video: retention and legal holds.", no_args_is_help=True)


@app.command("retention")
def retention(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run one retention pass now and show what it deleted.

    What is past its camera's days or quota goes, and while the media disk is under its
    free-space floor the oldest recordings city-wide go too. Held recordings always stay.
    """
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    keeper = RetentionKeeper(database, settings.media_path, settings.video)
    try:
        summary = keeper.run_once(utcnow(), dry_run=dry_run)
    except RetentionError as exc:
        errors.print(f"[red]retention:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_summary(Console(), summary, settings.zone, str(settings.media_path))
    if summary.failed_files:
        raise typer.Exit(1)


@app.command("holds")
def holds(config: ConfigOption = None) -> None:
    """List the active legal holds: the recordings retention keeps until they are released."""
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            records = list_holds(session, active_only=True)
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    console = Console()
    if not records:
        console.print("no active legal holds")
        return
    table = Table(
        "id", "camera", "from", "to", "kind", "reason", "reference", "placed by", "placed at"
    )
    for record in records:
        table.add_row(
            str(record.id),
            Text(record.camera_code),
            _when(record.starts_at, settings.zone),
            _when(record.ends_at, settings.zone),
            record.kind.value,
            Text(record.reason),
            Text(record.reference or "—"),
            Text(record.placed_by or "system"),
            _when(record.placed_at, settings.zone),
        )
    console.print(table)
    console.print(f"{len(records)} active hold(s); times in {settings.timezone}")


def _print_summary(console: Console, summary: PurgeSummary, zone: ZoneInfo, media: str) -> None:
    verb = "would delete" if summary.dry_run else "deleted"
    if summary.entries:
        table = Table("camera", "reason", "segments", "size", "recorded from", "to", "missing")
        for entry in summary.entries:
            table.add_row(
                Text(entry.camera_code),
                entry.reason.value,
                str(entry.segments),
                format_bytes(entry.bytes),
                _when(entry.oldest_at, zone),
                _when(entry.newest_at, zone),
                str(entry.missing_files) if entry.missing_files else "",
            )
        console.print(table)
    if summary.entries:
        console.print(
            f"{verb} {summary.segments} segment(s), {format_bytes(summary.bytes)}"
            + (" (dry run: nothing was deleted)" if summary.dry_run else ""),
            highlight=False,
        )
    else:
        console.print("nothing to delete")
    floor = summary.disk_before.floor(summary.floor_percent)
    console.print(
        f"media disk {escape(media)}: {format_bytes(summary.disk_before.total)}, floor "
        f"{summary.floor_percent:g}% ({format_bytes(floor)} free)\n"
        f"free before: {_free(summary.disk_before)}, "
        f"{'after (projected)' if summary.dry_run else 'after'}: {_free(summary.disk_after)}",
        highlight=False,
    )
    missing = summary.floor_missing_bytes
    if missing and summary.dry_run:
        console.print(
            f"[yellow]still {format_bytes(missing)} under the floor:[/yellow] a real pass would "
            "go on to delete the oldest unheld recordings city-wide"
        )
    elif missing:
        console.print(
            f"[red]still {format_bytes(missing)} under the floor[/red]; legal holds pin "
            f"{format_bytes(summary.floor_held_bytes)} of the oldest recordings"
        )
    if summary.failed_files:
        errors.print(
            f"[red]{summary.failed_files} file(s) could not be deleted[/red] (see the log); "
            "they and their index rows were kept"
        )
    if summary.interrupted:
        console.print("[yellow]interrupted: the rest waits for the next pass[/yellow]")


def _free(disk: DiskSpace) -> str:
    share = 100 * disk.free / disk.total if disk.total else 0.0
    return f"{format_bytes(disk.free)} ({share:.1f}%)"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
