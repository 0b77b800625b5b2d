"""`safecity requests import|export`: camera requests as a CSV file, for the programme office
at the server (a batch received from the akimats and the police, a list to hand on)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    cli_actor,
    database_or_exit,
    errors,
    phase_progress,
    settings_or_exit,
)
from safecity.planning.requests.batch import ImportOutcome, ImportReport, import_requests
from safecity.planning.requests.importing import (
    COLUMNS,
    ParsedFile,
    RequestFileError,
    parse_csv,
    serialise,
)
from safecity.planning.requests.models import CameraRequest
from safecity.planning.requests.rules import Submitter
from safecity.planning.requests.service import Actor
from safecity.private_files import write_replacing

app = typer.Typer(
    help="Camera installation requests: import and export CSV files.", no_args_is_help=True
)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV file of requests.", dir_okay=False)],
    organization: Annotated[
        str | None,
        typer.Option(
            "--organization",
            help="The asking organization's code for rows whose organization cell is empty.",
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Store the good rows and report the bad ones instead of storing nothing.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report, store nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Submit the requests of a CSV file (columns: organization, latitude, longitude, address,
    district, site, urgency, justification; docs/planning.md).

    Every row is checked first; with any bad row nothing is stored unless --skip-invalid.
    Each stored request gets its number and an audit row naming the operating-system login
    (cli:<login>); the import itself is audited with the file's SHA-256.
    """
    console = Console()
    settings = settings_or_exit(config)
    try:
        data = file.read_bytes()
        parsed = parse_csv(data)
    except OSError as exc:
        errors.print(
            f"[red]cannot read {escape(str(file))}:[/red] {escape(exc.strerror or str(exc))}"
        )
        raise typer.Exit(1) from exc
    except RequestFileError as exc:
        errors.print(f"[red]{escape(str(file))}:[/red] {escape(str(exc))}; nothing stored")
        raise typer.Exit(1) from exc
    taken = ", ".join(f"{field} ← {header!r}" for field, header in parsed.columns.items())
    console.print(f"columns: {escape(taken)}", highlight=False)
    database = database_or_exit(settings)
    try:
        with database.session() as session, phase_progress(console) as progress:
            try:
                report = import_requests(
                    session,
                    parsed,
                    Submitter.programme_office(),
                    Actor(cli_actor()),
                    default_organization=organization,
                    skip_invalid=skip_invalid,
                    dry_run=dry_run,
                    progress=progress,
                )
            except ValueError as exc:
                errors.print(f"[red]cannot check positions:[/red] {escape(str(exc))}")
                raise typer.Exit(1) from exc
            if report.outcome is ImportOutcome.STORED:
                audit_cli_change(
                    session,
                    action="camera_requests.import",
                    target="camera_requests",
                    details={
                        "file": str(file.resolve()),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "stored": list(report.numbers),
                        "skipped": report.skipped,
                    },
                )
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error, nothing was stored:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_report(console, file, parsed, report)
    if report.outcome is ImportOutcome.REJECTED:
        raise typer.Exit(1)


@app.command("export")
def export_file(
    file: Annotated[
        Path, typer.Argument(help="File to write (replaced if it exists).", dir_okay=False)
    ],
    config: ConfigOption = None,
) -> None:
    """Write every request to a CSV file: its number, status and decision beside the columns
    an import reads."""
    console = Console()
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            requests = session.scalars(
                select(CameraRequest)
                .options(
                    joinedload(CameraRequest.organization),
                    joinedload(CameraRequest.district),
                    joinedload(CameraRequest.site),
                    joinedload(CameraRequest.camera),
                )
                .order_by(CameraRequest.number)
            ).all()
            rows = [
                {
                    "number": request.number,
                    "status": request.status.value,
                    "urgency": request.urgency.value,
                    "organization": request.organization.code,
                    "district": request.district.name,
                    "latitude": request.latitude,
                    "longitude": request.longitude,
                    "address": request.address,
                    "site": request.site.code if request.site else None,
                    "justification": request.justification,
                    "submitted_at": request.submitted_at.isoformat(),
                    "decision_reason": request.decision_reason,
                    "camera": request.camera.code if request.camera else None,
                }
                for request in requests
            ]
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    columns = ("number", "status", *COLUMNS, "submitted_at", "decision_reason", "camera")
    try:
        write_replacing(file, serialise(rows, columns).encode())
    except OSError as exc:
        errors.print(
            f"[red]cannot write {escape(str(file))}:[/red] {escape(exc.strerror or str(exc))}"
        )
        raise typer.Exit(1) from exc
    console.print(f"exported {len(rows)} requests to {escape(str(file))}", highlight=False)


def _print_report(console: Console, file: Path, parsed: ParsedFile, report: ImportReport) -> None:
    validation = report.validation
    good, bad = len(validation.rows), len(validation.problems)
    console.print(
        f"{escape(str(file))}: {_count(good + bad, 'row')} checked, {good} good, {bad} bad",
        highlight=False,
    )
    if parsed.ignored_columns:
        console.print(
            "[yellow]ignored columns[/yellow] (no field is read from them): "
            + escape(", ".join(parsed.ignored_columns))
        )
    table = Table("row", "result", title="Rows", title_justify="left")
    numbers = dict(zip((row.where for row in validation.rows), report.numbers, strict=False))
    results: list[tuple[str, Text]] = [
        (row.where, Text(numbers.get(row.where, "good"), style="green")) for row in validation.rows
    ]
    results += [
        (problem.where, Text("\n".join(f"• {reason}" for reason in problem.reasons), style="red"))
        for problem in validation.problems
    ]
    for where, result in sorted(results, key=lambda item: int(item[0].split()[-1])):
        table.add_row(where, result)
    console.print(table)
    if report.outcome is ImportOutcome.REJECTED:
        console.print(
            f"[red]nothing stored:[/red] {_count(bad, 'bad row')}. Fix them, or pass "
            f"--skip-invalid to store the good ones ({good}) and skip the bad ones."
        )
    elif report.outcome is ImportOutcome.DRY_RUN:
        console.print(f"dry run, nothing stored; would store {good}", highlight=False)
    else:
        console.print(
            f"stored {_count(len(report.numbers), 'request')}, skipped {report.skipped}",
            highlight=False,
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
