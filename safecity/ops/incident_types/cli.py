"""`safecity incident-types import|export`: the city's incident types as an
``incident_types.yaml`` file (format: docs/incident-types.md)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    cli_actor,
    database_or_exit,
    errors,
    settings_or_exit,
)
from safecity.ops.incident_types.file import parse_incident_types
from safecity.ops.incident_types.store import (
    ImportReport,
    apply_incident_types,
    export_incident_types,
)

app = typer.Typer(
    help="Incident types and their SOP checklists: import and export a YAML file.",
    no_args_is_help=True,
)


@app.command("import")
def import_types(
    file: Annotated[Path, typer.Argument(help="An incident_types.yaml file.", dir_okay=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report, write nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Make the stored incident types what the file says, matched by code.

    Every entry is checked first; with any problem nothing is written. A changed checklist
    becomes the type's next version (open incidents keep theirs); a type the file leaves out
    is deactivated if incidents use it, else deleted. Audited as cli:<login>, with the file's
    SHA-256.
    """
    console = Console()
    try:
        data = file.read_bytes()
    except OSError as exc:
        errors.print(f"[red]cannot read {escape(str(file))}:[/red] {escape(exc.strerror or '')}")
        raise typer.Exit(1) from exc
    types, problems = parse_incident_types(data, file.name)
    if problems:
        for problem in problems:
            errors.print(escape(str(problem)), highlight=False)
        errors.print(f"[red]{len(problems)} problem(s): nothing was written[/red]")
        raise typer.Exit(1)
    database = database_or_exit(settings_or_exit(config))
    try:
        with database.sessions() as session:
            report = apply_incident_types(session, types, author=cli_actor())
            if dry_run or not report.changed:
                session.rollback()
            else:
                audit_cli_change(
                    session,
                    action="incident_types.import",
                    target="incident_types",
                    details={
                        "file": str(file.resolve()),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        **report.as_details(),
                    },
                )
                session.commit()
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error, nothing was written:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_report(console, report, dry_run=dry_run)


def _print_report(console: Console, report: ImportReport, *, dry_run: bool) -> None:
    lines = [
        ("created", report.created),
        ("updated", report.updated),
        ("deactivated (incidents use them)", report.deactivated),
        ("deleted (never used)", report.deleted),
    ]
    for label, codes in lines:
        if codes:
            console.print(f"{label}: {', '.join(codes)}", highlight=False)
    for code, version in report.new_checklists.items():
        console.print(f"new checklist: {code} version {version}", highlight=False)
    console.print(f"unchanged: {len(report.unchanged)}", highlight=False)
    if dry_run:
        console.print("dry run: nothing was written")
    elif not report.changed:
        console.print("nothing to change")


@app.command("export")
def export_types(
    file: Annotated[
        Path, typer.Argument(help="File to write (replaced if it exists).", dir_okay=False)
    ],
    config: ConfigOption = None,
) -> None:
    """Write the stored incident types to a file that imports back unchanged.

    Deactivated types are included (active: false), each type with its current checklist.
    """
    database = database_or_exit(settings_or_exit(config))
    try:
        with database.sessions() as session:
            data = export_incident_types(session)
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    partial = file.with_name(f".{file.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, file)
    except OSError as exc:
        errors.print(
            f"[red]cannot write {escape(str(file))}:[/red] {escape(exc.strerror or str(exc))}"
        )
        raise typer.Exit(1) from exc
    finally:
        partial.unlink(missing_ok=True)
    Console().print(f"exported the incident types to {escape(str(file))}", highlight=False)
