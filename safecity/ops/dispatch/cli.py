"""`safecity notifications list|retry`: the dispatch notices outbox from the command line."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    cli_actor,
    database_or_exit,
    errors,
    settings_or_exit,
)
from safecity.ops.dispatch.models import Notification, NotificationState
from safecity.ops.dispatch.outbox import NotificationError, retry_now

app = typer.Typer(
    help="Notices to police units (MQTT, webhooks): what waits, what failed.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)


@app.command("list")
def list_command(
    config: ConfigOption = None,
    state: Annotated[
        list[NotificationState] | None,
        typer.Option(help="Only notices in this state (repeat for several)."),
    ] = None,
    last: Annotated[int, typer.Option(min=1, help="How many of the newest notices.")] = 50,
) -> None:
    """The newest notices, one a line: unit, channel, receiver, state, attempts, last error."""
    database = database_or_exit(settings_or_exit(config))
    try:
        with database.sessions() as session:
            query = select(Notification)
            if state:
                query = query.where(Notification.state.in_(state))
            query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
            notices = list(session.scalars(query.limit(last)))
    finally:
        database.dispose()
    if not notices:
        console.print("no matching notices")
        return
    # One line per notice, not a table: webhook URLs are long, and this is read in logs too.
    for notice in notices:
        error = f"  {notice.last_error}" if notice.last_error else ""
        console.print(
            f"{notice.id}  {notice.created_at:%Y-%m-%d %H:%M:%S}  {notice.police_unit_code}  "
            f"{notice.channel.value}  {notice.target}  {notice.state.value}  "
            f"attempts {notice.attempts}{error}",
            highlight=False,
            markup=False,
        )


@app.command("retry")
def retry_command(
    ids: Annotated[list[int] | None, typer.Argument(help="Notice ids.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed notice.")] = False,
    config: ConfigOption = None,
) -> None:
    """Send notices again now (a running `safecity serve` delivers them), each with a fresh
    give-up period. Audited as the operating-system user."""
    if not ids and not failed:
        errors.print("name notice ids, or --failed for every failed one")
        raise typer.Exit(2)
    settings = settings_or_exit(config)
    give_up_after = timedelta(hours=settings.ops.notifications.give_up_hours)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            query = select(Notification).order_by(Notification.id)
            if failed:
                query = query.where(Notification.state == NotificationState.FAILED)
            if ids:
                query = query.where(Notification.id.in_(ids))
            notices = list(session.scalars(query))
            missing = sorted(set(ids or ()) - {notice.id for notice in notices})
            if missing:
                errors.print(f"no notice {', '.join(map(str, missing))}; nothing retried")
                raise typer.Exit(1)
            for notice in notices:
                retry_now(
                    session,
                    notice,
                    actor=cli_actor(),
                    actor_id=None,
                    give_up_after=give_up_after,
                )
    except NotificationError as exc:
        errors.print(f"[red]nothing retried:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    console.print(f"{len(notices)} notice(s) will be sent again")
