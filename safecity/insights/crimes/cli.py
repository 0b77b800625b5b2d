"""`safecity crimes import FILE`: the police register's statistics as crime records."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from safecity.cli_options import ConfigOption
from safecity.cli_support import audit_cli_change, database_or_exit, errors, settings_or_exit
from safecity.core.clock import utcnow
from safecity.insights.crimes.file import CrimeFileError, parse_csv
from safecity.insights.crimes.store import (
    ConcurrentImport,
    ImportOutcome,
    ImportReport,
    import_file,
)

app = typer.Typer(help="Crime records from the police register.", no_args_is_help=True)
PROBLEMS_SHOWN = 200


@app.callback()
def crimes() -> None:
    """Crime records from the police register."""


@app.command("import")
def import_crimes(
    file: Annotated[Path, typer.Argument(help="The statistics file (CSV).", dir_okay=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report, write nothing.")
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import the good rows and report the bad ones instead of importing nothing.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Create or update crime records from a CSV file, matched by register number (code).

    Columns: code, time, kind, place_kind, and latitude/longitude or district; solved and
    solved_at optional (Russian and Kazakh names understood, docs/insights.md). Every row is
    checked first; with any bad row nothing is written unless --skip-invalid. An import that
    writes is audited as the operating-system login, with the file's SHA-256.
    """
    console = Console()
    settings = settings_or_exit(config)
    try:
        data = file.read_bytes()
        parsed = parse_csv(data)
    except OSError as exc:
        errors.print(f"[red]cannot read {escape(str(file))}:[/red] {escape(exc.strerror or '')}")
        raise typer.Exit(1) from exc
    except CrimeFileError as exc:
        errors.print(f"[red]{escape(str(file))}:[/red] {escape(str(exc))}; nothing imported")
        raise typer.Exit(1) from exc
    taken = ", ".join(f"{field} ← {header!r}" for field, header in parsed.columns.items())
    console.print(f"columns: {escape(taken)}", highlight=False)
    database = database_or_exit(settings)
    columns = (TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn())
    try:
        with (
            database.session() as session,
            Progress(*columns, console=console, disable=not console.is_terminal) as progress,
        ):
            tasks: dict[str, TaskID] = {}

            def advance(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=total)
                progress.update(tasks[phase], completed=done, total=total)

            try:
                report = import_file(
                    session,
                    parsed,
                    zone=settings.zone,
                    now=utcnow(),
                    skip_invalid=skip_invalid,
                    dry_run=dry_run,
                    progress=advance,
                )
            except ConcurrentImport as exc:
                errors.print(f"[red]{escape(str(exc))}[/red]")
                raise typer.Exit(1) from exc
            except ValueError as exc:
                errors.print(f"[red]cannot locate rows:[/red] {escape(str(exc))}")
                raise typer.Exit(1) from exc
            if report.outcome is ImportOutcome.WRITTEN:
                audit_cli_change(
                    session,
                    action="crimes.import",
                    target="crime_records",
                    details={
                        "file": str(file.resolve()),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                        "skipped": report.skipped,
                    },
                )
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error, nothing was written:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_report(console, file, report)
    if report.outcome is ImportOutcome.REJECTED:
        raise typer.Exit(1)


def _print_report(console: Console, file: Path, report: ImportReport) -> None:
    validation = report.validation
    bad = len(validation.bad_lines)
    good = len(validation.rows)
    console.print(
        f"{escape(str(file))}: {good + bad} rows, {good} good, {bad} bad", highlight=False
    )
    if validation.problems:
        table = Table("line", "code", "column", "problem", "value", title="Bad rows")
        for problem in validation.problems[:PROBLEMS_SHOWN]:
            table.add_row(
                str(problem.line),
                Text(problem.code or "—"),
                Text(problem.column or "(row)"),
                Text(problem.problem),
                Text(problem.value if problem.value is not None else "—"),
            )
        console.print(table)
        if len(validation.problems) > PROBLEMS_SHOWN:
            console.print(f"… and {len(validation.problems) - PROBLEMS_SHOWN} more problems")
    counts = (
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped} skipped"
    )
    if report.outcome is ImportOutcome.REJECTED:
        console.print(
            f"[red]nothing imported:[/red] {bad} bad rows. Fix them, or pass --skip-invalid "
            f"to import the {good} good rows and skip the bad ones."
        )
    elif report.outcome is ImportOutcome.DRY_RUN:
        console.print(f"dry run, nothing written; would be: {counts}", highlight=False)
    else:
        console.print(f"imported: {counts}", highlight=False)
