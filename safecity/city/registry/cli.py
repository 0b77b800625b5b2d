"""`safecity cameras import|export|seal-credentials`: the camera registry as a CSV or GeoJSON
file, and its stream passwords sealed with the key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from safecity.city.registry.columns import COLUMNS, RegistryFileError, RegistryFormat, format_for
from safecity.city.registry.parsing import ParsedFile, parse
from safecity.city.registry.store import (
    ImportOutcome,
    ImportReport,
    district_keys,
    import_rows,
    load_context,
    read_cameras,
)
from safecity.city.registry.writing import serialise
from safecity.city.stream_credentials import (
    CredentialKeyring,
    StreamCredentialsError,
    seal_stored_credentials,
)
from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    database_or_exit,
    errors,
    phase_progress,
    settings_or_exit,
)
from safecity.private_files import write_replacing
from safecity.settings import Settings
from safecity.store.engine import Database

app = typer.Typer(
    help="The camera registry: import and export CSV or GeoJSON files.", no_args_is_help=True
)

FormatOption = Annotated[
    RegistryFormat | None,
    typer.Option(
        "--format",
        help="File format; by default from the extension (.csv, .geojson or .json).",
    ),
]


ColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        metavar="FIELD=HEADER",
        help="Read FIELD from the column HEADER (any case); repeat for several. Without it "
        "each field is read from its own name or a common one (id, lat, lon, stream_url, "
        "широта…; see docs/camera-registry.md).",
    ),
]


@app.command("import")
def import_cameras(
    file: Annotated[Path, typer.Argument(help="CSV or GeoJSON registry file.", dir_okay=False)],
    file_format: FormatOption = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import the good rows and report the bad ones instead of importing nothing.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report, write nothing.")
    ] = False,
    column: ColumnOption = None,
    config: ConfigOption = None,
) -> None:
    """Create or update cameras from a registry file, matched by camera_id.

    Says first which column each field is read from. Every row is checked first; with any
    bad row nothing is written unless --skip-invalid. An import that writes is audited as
    the operating-system login (cli:<login>), with the file's SHA-256.
    """
    chosen = _chosen_columns(column or [])
    console = Console()
    settings = settings_or_exit(config)
    keyring = CredentialKeyring(settings.stream_credentials_key_path)
    database = database_or_exit(settings)
    try:
        source = _read(file, file_format, chosen)
        parsed = source.parsed
        _print_columns(console, parsed)
        with database.session() as session, phase_progress(console) as progress:
            try:
                context = load_context(session)
            except ValueError as exc:
                errors.print(f"[red]cannot check positions:[/red] {escape(str(exc))}")
                raise typer.Exit(1) from exc
            if not len(context.locator):
                errors.print(
                    "no districts in the database: import districts or run `safecity demo` first"
                )
                raise typer.Exit(1)
            report = import_rows(
                session,
                parsed.rows,
                context,
                keyring,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=progress,
            )
            if report.outcome is ImportOutcome.WRITTEN:
                audit_cli_change(
                    session,
                    action="cameras.import",
                    target="cameras",
                    details=source.audited(report),
                )
    except StreamCredentialsError as exc:
        errors.print(f"[red]nothing imported:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error, nothing was written:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_report(console, file, parsed, report)
    if report.outcome is ImportOutcome.REJECTED:
        raise typer.Exit(1)


@app.command("export")
def export_cameras(
    file: Annotated[
        Path, typer.Argument(help="File to write (replaced if it exists).", dir_okay=False)
    ],
    file_format: FormatOption = None,
    district: Annotated[
        str | None, typer.Option("--district", help="Only this district (name or code).")
    ] = None,
    with_credentials: Annotated[
        bool,
        typer.Option(
            "--with-credentials",
            help="Write stream URLs with their passwords (the file is made 0600). Without "
            "it passwords show as ***, and importing the file keeps the stored ones.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write the camera registry to a CSV or GeoJSON file that imports back unchanged."""
    console = Console()
    try:
        chosen = file_format or format_for(file)
    except RegistryFileError as exc:
        errors.print(f"[red]{escape(str(file))}:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    settings = settings_or_exit(config)
    keyring = CredentialKeyring(settings.stream_credentials_key_path) if with_credentials else None
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            district_ids = _district_ids(session, district) if district else None
            export = read_cameras(session, district_ids, keyring)
            if with_credentials:
                audit_cli_change(
                    session,
                    action="cameras.export_credentials",
                    target="cameras",
                    details={"file": str(file.resolve()), "cameras": len(export.records)},
                )
    except StreamCredentialsError as exc:
        errors.print(f"[red]nothing exported:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    try:
        write_replacing(
            file,
            serialise(export.records, export.district_names, chosen).encode(),
            private=with_credentials,
        )
    except OSError as exc:
        errors.print(
            f"[red]cannot write {escape(str(file))}:[/red] {escape(exc.strerror or str(exc))}"
        )
        raise typer.Exit(1) from exc
    console.print(
        f"exported {_count(len(export.records), 'camera')} to {escape(str(file))} ({chosen})"
    )
    if with_credentials:
        errors.print(
            f"[yellow]warning:[/yellow] {escape(str(file))} holds the cameras' stream "
            "passwords in clear (readable by you alone): keep it safe, delete it when done"
        )


@app.command("seal-credentials")
def seal_credentials(config: ConfigOption = None) -> None:
    """Encrypt the stream passwords still stored in clear (`safecity db upgrade` does it too).

    The key file is created on first use; back it up apart from the database.
    """
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        seal_and_report(database, settings, Console())
    finally:
        database.dispose()


def seal_and_report(database: Database, settings: Settings, console: Console) -> None:
    """Seal the passwords still in clear, audited, and say how many; exit 1 on a key problem."""
    keyring = CredentialKeyring(settings.stream_credentials_key_path)
    try:
        with database.session() as session:
            sealed = seal_stored_credentials(session, keyring)
            if sealed:
                audit_cli_change(
                    session,
                    action="cameras.seal_credentials",
                    target="cameras",
                    details={"stream_urls": sealed, "key": str(keyring.path)},
                )
    except StreamCredentialsError as exc:
        errors.print(f"[red]stream passwords not sealed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    console.print(
        f"stream passwords: {_count(sealed, 'URL')} sealed with {escape(str(keyring.path))}"
        if sealed
        else "stream passwords: none in clear",
        highlight=False,
    )


def _chosen_columns(choices: list[str]) -> dict[str, str]:
    """Field → header from the --column options, or a usage error (exit 2) saying why."""
    chosen: dict[str, str] = {}
    for choice in choices:
        field, equals, header = choice.partition("=")
        field = field.strip()
        if not equals or not field or not header.strip():
            raise typer.BadParameter(
                f"{choice!r} is not FIELD=HEADER, e.g. camera_id=Номер", param_hint="'--column'"
            )
        if field not in COLUMNS:
            raise typer.BadParameter(
                f"unknown field {field!r}; the fields are {', '.join(COLUMNS)}",
                param_hint="'--column'",
            )
        if field in chosen:
            raise typer.BadParameter(f"{field} is given twice", param_hint="'--column'")
        chosen[field] = header.strip()
    return chosen


@dataclass(frozen=True)
class _RegistryFile:
    path: Path
    data: bytes
    fmt: RegistryFormat
    parsed: ParsedFile

    def audited(self, report: ImportReport) -> dict[str, object]:
        """The audit row's details: which file exactly (its hash: the file may change or go),
        read how, and what it did to the registry."""
        return {
            "file": str(self.path.resolve()),
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "format": self.fmt.value,
            "columns": dict(self.parsed.columns),
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
        }


def _read(file: Path, file_format: RegistryFormat | None, chosen: dict[str, str]) -> _RegistryFile:
    try:
        data = file.read_bytes()
        fmt = file_format or format_for(file)
        return _RegistryFile(file, data, fmt, parse(data, fmt, chosen))
    except OSError as exc:
        errors.print(
            f"[red]cannot read {escape(str(file))}:[/red] {escape(exc.strerror or str(exc))}"
        )
        raise typer.Exit(1) from exc
    except RegistryFileError as exc:
        errors.print(f"[red]{escape(str(file))}:[/red] {escape(str(exc))}; nothing imported")
        raise typer.Exit(1) from exc


def _district_ids(session: Session, name: str) -> frozenset[int]:
    ids = district_keys(session).get(name.casefold())
    if ids is None:
        errors.print(f"unknown district {escape(repr(name))}")
        raise typer.Exit(1)
    if len(ids) > 1:
        errors.print(f"{escape(repr(name))} names more than one district: use its code")
        raise typer.Exit(1)
    return ids


def _print_columns(console: Console, parsed: ParsedFile) -> None:
    """Which column gave each field: a file in another system's words is read as the person
    importing can check, before any row is."""
    taken = ", ".join(f"{field} ← {header!r}" for field, header in parsed.columns.items())
    console.print(f"columns: {escape(taken)}", highlight=False)


def _print_report(console: Console, file: Path, parsed: ParsedFile, report: ImportReport) -> None:
    validation = report.validation
    bad = len(validation.problems)
    good = len(validation.records)
    console.print(
        f"{escape(str(file))}: {_count(good + bad, 'row')} checked, {good} good, {bad} bad",
        highlight=False,
    )
    if parsed.ignored_columns:
        console.print(
            "[yellow]ignored columns[/yellow] (no field is read from them): "
            + escape(", ".join(parsed.ignored_columns))
        )
    if bad:
        table = Table("row", "camera_id", "problem", title="Bad rows", title_justify="left")
        for problem in validation.problems:
            table.add_row(
                problem.where,
                Text(problem.camera_id or "—"),
                Text("\n".join(f"• {reason}" for reason in problem.reasons)),
            )
        console.print(table)
    counts = (
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped} skipped"
    )
    if report.outcome is ImportOutcome.REJECTED:
        console.print(
            f"[red]nothing imported:[/red] {_count(bad, 'bad row')}. Fix them, or pass "
            f"--skip-invalid to import the {_count(good, 'good row')} and skip the bad ones."
        )
    elif report.outcome is ImportOutcome.DRY_RUN:
        console.print(f"dry run, nothing written; would be: {counts}", highlight=False)
    else:
        console.print(f"imported: {counts}", highlight=False)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
