"""`safecity audit verify|show`: check the hash chain, and read the newest entries."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import select

from safecity.audit import log
from safecity.audit.models import AuditEntry
from safecity.cli_options import ConfigOption
from safecity.cli_support import database_or_exit, settings_or_exit

app = typer.Typer(help="The audit log: who saw, exported or changed what.", no_args_is_help=True)
console = Console(soft_wrap=True)

# Below this many rows verify finishes in a blink: no progress bar.
PROGRESS_FROM = 20_000


def _head_line(seq: int | None, digest: str | None) -> str:
    if seq is None:
        return "head: the log is empty"
    return f"head: seq {seq} hash {digest}  (keep this to detect later truncation)"


@app.command("verify")
def verify(config: ConfigOption = None) -> None:
    """Walk the whole hash chain; exit 0 when intact, 1 naming each changed or missing row."""
    database = database_or_exit(settings_or_exit(config))
    try:
        total = log.count_rows(database)
        if total >= PROGRESS_FROM and console.is_terminal:
            with Progress(
                TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), console=console
            ) as bar:
                task = bar.add_task("verify", total=total)
                report = log.verify(
                    database, progress=lambda done: bar.update(task, completed=done)
                )
        else:
            report = log.verify(database)
    finally:
        database.dispose()
    for finding in report.findings:
        console.print(f"[red]ALTERED[/red] {escape(finding.message)}", highlight=False)
    console.print(_head_line(report.head_seq, report.head_hash), highlight=False)
    if not report.intact:
        console.print(
            f"[red]audit log altered:[/red] {len(report.findings)} finding(s) in "
            f"{report.rows} rows",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(f"audit log intact: {report.rows} rows", highlight=False)


@app.command("show")
def show(
    config: ConfigOption = None,
    last: Annotated[int, typer.Option(min=1, help="How many of the newest entries.")] = 50,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. evidence.export.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor (user name).")] = None,
) -> None:
    """The newest entries, oldest first, and the chain's head seq and hash."""
    database = database_or_exit(settings_or_exit(config))
    try:
        with database.sessions() as session:
            query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(last)
            if action:
                query = query.where(AuditEntry.action == action)
            if actor:
                query = query.where(AuditEntry.actor == actor)
            entries = list(reversed(session.scalars(query).all()))
            head = session.execute(
                select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            ).first()
    finally:
        database.dispose()
    table = Table("seq", "at (UTC)", "actor", "action", "target", "address", "details")
    for entry in entries:
        table.add_row(
            str(entry.seq),
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(entry.actor),
            escape(entry.action),
            escape(entry.target or ""),
            escape(entry.address or ""),
            escape(json.dumps(entry.details, ensure_ascii=False, sort_keys=True)),
        )
    if entries:
        console.print(table)
    else:
        console.print("no matching entries")
    console.print(_head_line(*(head or (None, None))), highlight=False)
