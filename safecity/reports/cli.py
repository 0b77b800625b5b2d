"""`safecity report`: a city's or a district's report for a period, as PDF or HTML."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from safecity.auth.roles import Scope
from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    cli_actor,
    database_or_exit,
    errors,
    settings_or_exit,
)
from safecity.core.clock import utcnow
from safecity.insights.reports.building import build_report, file_name, render
from safecity.insights.reports.context import (
    NothingToReport,
    ReportContext,
    district_named,
    report_districts,
)
from safecity.insights.reports.period import PeriodError, parse_period
from safecity.reports.contents import SECTIONS

app = typer.Typer(add_completion=False)  # the `safecity` command has it
console = Console(soft_wrap=True)


class Format(StrEnum):
    PDF = "pdf"
    HTML = "html"


@app.command()
def report(
    period: Annotated[
        str,
        typer.Option(
            help="A year (2026), a quarter (2026-Q3) or a month (2026-10).", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="The file to write; safecity-report-<area>-<period>.<format> if left out."
        ),
    ] = None,
    district: Annotated[
        str | None, typer.Option(help="One district, by name or code; the whole city if left out.")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="pdf or html.")] = Format.PDF,
    config: ConfigOption = None,
) -> None:
    """A city or district report for a period (crime figures with their changes, before and
    after the cameras, hot spots, KPIs, the camera fleet, incidents, camera requests; charts
    and maps) as a PDF or a self-contained HTML page."""
    try:
        chosen = parse_period(period)
    except PeriodError as exc:
        errors.print(f"[red]bad period[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            district_id = None
            if district is not None:
                district_id = district_named(session, district)
                if district_id is None:
                    errors.print(
                        f"[red]unknown district[/red] {escape(repr(district))}: "
                        "give an active district's name or code"
                    )
                    raise typer.Exit(1)
            try:
                districts, whole_city = report_districts(
                    session, Scope(city_wide=True), district_id
                )
            except NothingToReport as exc:
                errors.print(f"[red]nothing to report:[/red] {escape(str(exc))}")
                raise typer.Exit(1) from exc
            context = ReportContext(chosen, settings.zone, districts, whole_city)
            target = out or Path(file_name(context, format.value))
            steps = len(SECTIONS) + 1
            with Progress(
                TextColumn("{task.description:<14}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=not console.is_terminal,
            ) as bar:
                task = bar.add_task("starting", total=steps)

                def step(name: str, done: int, total: int) -> None:
                    bar.update(task, description=name, completed=done)
                    if not console.is_terminal and name != "done":
                        console.print(f"[{done + 1}/{steps}] {escape(name)}", highlight=False)

                document = build_report(
                    session,
                    context,
                    city=settings.city_name,
                    author=cli_actor(),
                    now=utcnow(),
                    sections=SECTIONS,
                    progress=step,
                )
                step(f"drawing {format.value.upper()}", len(SECTIONS), steps)
                body = render(document, format.value)
                bar.update(task, description="written", completed=steps)
            try:
                target.write_bytes(body)
            except OSError as exc:
                errors.print(
                    f"[red]cannot write[/red] {escape(str(target))}: {escape(exc.strerror or str(exc))}"
                )
                raise typer.Exit(1) from exc
            audit_cli_change(
                session,
                action="insights.report",
                target=target.name,
                details={"period": chosen.code, "district_id": district_id, "format": format.value},
            )
    finally:
        database.dispose()
    console.print(
        f"{escape(str(target))}: {escape(document.title)}, {escape(context.area)} "
        f"({len(body):,} bytes)",
        highlight=False,
    )
