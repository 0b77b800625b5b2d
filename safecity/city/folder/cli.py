"""`safecity city import|export`: the whole city as a folder of files."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from safecity.city.folder.checks import OVERLAP_TOLERANCE
from safecity.city.folder.reading import PARTS, CityFolder, CityFolderError, read_city_folder
from safecity.city.folder.store import CityImportReport, Move, apply_city
from safecity.city.folder.stored import stored_description
from safecity.city.folder.tables import Problem
from safecity.city.folder.writing import AreasInCsvError, city_files
from safecity.city.registry.columns import RegistryFormat
from safecity.city.registry.store import read_cameras
from safecity.city.registry.writing import serialise
from safecity.city.stream_credentials import CredentialKeyring, StreamCredentialsError
from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    database_or_exit,
    errors,
    settings_or_exit,
)
from safecity.ops.incident_types.file import FILE_NAME as INCIDENT_TYPES_FILE
from safecity.ops.incident_types.store import export_incident_types
from safecity.private_files import write_replacing
from safecity.store.engine import take_sqlite_writer_turn

app = typer.Typer(
    help="The city as a folder: districts, organizations, police units, sites and cameras.",
    no_args_is_help=True,
)

CAMERAS_EXPORT_FILE = "cameras.csv"
_SHOWN = 20


class SitesFormat(enum.StrEnum):
    GEOJSON = "geojson"
    CSV = "csv"


@app.command("import")
def import_city(
    folder: Annotated[Path, typer.Argument(help="The city folder.", file_okay=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything and report; write nothing.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help=f"Import only these parts of the folder ({', '.join(PARTS)}); repeat for "
            "several. The others are still checked against what is stored.",
        ),
    ] = None,
    keep_outside: Annotated[
        bool,
        typer.Option(
            "--keep-outside",
            help="When new borders leave a camera or site outside every district, keep it in "
            "its district instead of refusing the import.",
        ),
    ] = False,
    overlap_tolerance: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=100.0,
            help="Percent of the smaller district two districts may share (digitising slivers).",
        ),
    ] = OVERLAP_TOLERANCE * 100,
    config: ConfigOption = None,
) -> None:
    """Create or update the city from FOLDER, matched by code: all of it or nothing.

    Every file and row is checked first; any problem (file, line or feature, field, reason)
    and nothing is written. After new borders every camera and site is located again and the
    moves are listed. Audited as the operating-system login (cli:<login>) with each file's
    SHA-256.
    """
    parts = _parts(only or list(PARTS))
    console = Console()
    try:
        folder_read = read_city_folder(folder, parts)
    except CityFolderError as exc:
        errors.print(f"[red]cannot import:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    _print_reading(console, folder_read)
    if folder_read.problems:
        _print_problems(folder_read.problems, "cannot be imported")
        raise typer.Exit(1)
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        with database.sessions() as session:
            take_sqlite_writer_turn(session)
            with console.status("checking and writing…"):
                report = apply_city(
                    session,
                    folder_read.description,
                    folder_read.cameras,
                    keyring=CredentialKeyring(settings.stream_credentials_key_path),
                    incident_types=folder_read.incident_types,
                    keep_outside=keep_outside,
                    overlap_tolerance=overlap_tolerance / 100,
                )
            if not report.ok or dry_run:
                session.rollback()
            else:
                audit_cli_change(
                    session,
                    action="city.import",
                    target=f"city:{folder.resolve().name}",
                    details=_audited(folder, folder_read, report),
                )
                session.commit()
    except StreamCredentialsError as exc:
        errors.print(f"[red]nothing imported:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        # The driver's own words, without the statement and its parameters (whole outlines).
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        errors.print(f"[red]database error, nothing written:[/red] {escape(reason)}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_report(console, report, dry_run=dry_run)
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export_city(
    folder: Annotated[Path, typer.Argument(help="Where to write the files.", file_okay=False)],
    sites_format: Annotated[
        SitesFormat,
        typer.Option(help="sites.geojson (points and areas) or sites.csv (points only)."),
    ] = SitesFormat.GEOJSON,
    with_credentials: Annotated[
        bool,
        typer.Option(
            "--with-credentials",
            help="Write stream URLs with their passwords (cameras.csv is made 0600). Without "
            "it passwords show as ***, and importing the folder keeps the stored ones.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write the stored city to FOLDER as the files `city import` reads; it imports back
    unchanged. Files of the same names are replaced; other files are left alone."""
    console = Console()
    settings = settings_or_exit(config)
    keyring = CredentialKeyring(settings.stream_credentials_key_path) if with_credentials else None
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            description = stored_description(session)
            cameras = read_cameras(session, keyring=keyring)
            incident_types = export_incident_types(session)
            if with_credentials:
                audit_cli_change(
                    session,
                    action="cameras.export_credentials",
                    target="cameras",
                    details={
                        "file": str((folder / CAMERAS_EXPORT_FILE).resolve()),
                        "cameras": len(cameras.records),
                    },
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
        files = city_files(description, sites_as_csv=sites_format is SitesFormat.CSV)
    except AreasInCsvError as exc:
        errors.print(f"[red]cannot export:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    files[INCIDENT_TYPES_FILE] = incident_types
    files[CAMERAS_EXPORT_FILE] = serialise(
        cameras.records, cameras.district_names, RegistryFormat.CSV
    ).encode()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            private = with_credentials and name == CAMERAS_EXPORT_FILE
            write_replacing(folder / name, content, private=private)
    except OSError as exc:
        errors.print(f"[red]cannot write to {escape(str(folder))}:[/red] {exc.strerror or exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"exported to {escape(str(folder))}: {len(description.districts)} districts, "
        f"{len(description.organizations)} organizations, {len(description.police_units)} "
        f"police units, {len(description.sites)} sites, {len(cameras.records)} cameras"
    )
    if with_credentials:
        errors.print(
            f"[yellow]warning:[/yellow] {escape(str(folder / CAMERAS_EXPORT_FILE))} holds the "
            "cameras' stream passwords in clear (readable by you alone): keep it safe"
        )


def _parts(only: list[str]) -> list[str]:
    chosen: list[str] = []
    for item in only:
        for part in item.replace(",", " ").split():
            if part not in PARTS:
                raise typer.BadParameter(
                    f"unknown part {part!r}; the parts are {', '.join(PARTS)}",
                    param_hint="'--only'",
                )
            chosen.append(part)
    return [part for part in PARTS if part in chosen]


def _print_reading(console: Console, folder: CityFolder) -> None:
    for name in sorted(folder.sha256):
        console.print(f"read {escape(name)}", highlight=False)
    for name, columns in sorted(folder.ignored_columns.items()):
        console.print(
            f"[yellow]{escape(name)}: columns not read:[/yellow] {escape(', '.join(columns))}"
        )
    if folder.other_files:
        console.print(f"not city files, left alone: {escape(', '.join(folder.other_files))}")


def _print_problems(problems: list[Problem], verdict: str) -> None:
    """One line a problem, never wrapped, so that it can be searched and copied whole."""
    errors.print(f"[red]{len(problems)} problems:[/red]")
    for problem in problems:
        errors.print(escape(str(problem)), soft_wrap=True, highlight=False)
    errors.print(f"[red]the city {verdict}; nothing was written[/red]")


def _print_report(console: Console, report: CityImportReport, *, dry_run: bool) -> None:
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(str(warning))}")
    if not report.ok:
        _print_problems(report.problems, "cannot be imported")
        return
    table = Table("", "created", "updated", "unchanged", title="would change" if dry_run else None)
    for part, counts in report.counts.items():
        table.add_row(
            part.replace("_", " "), str(counts.created), str(counts.updated), str(counts.unchanged)
        )
    console.print(table)
    _print_moves(console, "moved to another district", report.moved)
    _print_moves(console, "outside every district, kept where they were", report.kept_outside)
    console.print("dry run: nothing written" if dry_run else "imported")


def _print_moves(console: Console, title: str, moves: list[Move]) -> None:
    if not moves:
        return
    console.print(f"{len(moves)} {title}:")
    for move in moves[:_SHOWN]:
        console.print(
            f"  {move.what} {escape(move.code)} ({escape(move.name)}): "
            f"{escape(move.before)} → {escape(move.after or 'outside')}",
            highlight=False,
        )
    if len(moves) > _SHOWN:
        console.print(f"  and {len(moves) - _SHOWN} more")


def _audited(folder: Path, folder_read: CityFolder, report: CityImportReport) -> dict[str, object]:
    return {
        "folder": str(folder.resolve()),
        "sha256": folder_read.sha256,
        "counts": {
            part: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for part, c in report.counts.items()
        },
        "moved": [f"{m.what} {m.code}: {m.before} → {m.after}" for m in report.moved[:100]],
        "moved_count": len(report.moved),
        "kept_outside": [f"{m.what} {m.code}" for m in report.kept_outside[:100]],
    }
