"""`safecity users …`: the people who sign in, managed at the server. The same rules as the
admin API (``users.py``); every change audited as ``cli:<login>``. Users are named by their
username here, as the person at the server knows them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from safecity.auth.passwords import MAX_PASSWORD_LENGTH
from safecity.auth.roles import Role
from safecity.auth.sessions import close_all_sessions
from safecity.auth.users import (
    KEEP,
    UserError,
    activate_user,
    add_user,
    deactivate_user,
    edit_user,
    find_organization,
    find_police_unit,
    open_sessions,
    reset_password,
    user_facts,
    user_named,
    users_query,
)
from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    database_or_exit,
    errors,
    settings_or_exit,
)

app = typer.Typer(help="People who sign in to SafeCity.", no_args_is_help=True)
console = Console(soft_wrap=True)

Username = Annotated[str, typer.Argument(help="The user's sign-in name.")]
PasswordStdin = Annotated[
    bool, typer.Option(help="Read the password from standard input instead of a prompt.")
]


@contextmanager
def _transaction(config: Path | None, refusal: str) -> Iterator[Session]:
    """One transaction on the configured database, committed at the end; a refusal
    (``UserError``: bad input, an unknown user) rolls it back, is printed after ``refusal`` and
    exits 1."""
    database = database_or_exit(settings_or_exit(config))
    try:
        with database.session() as session:
            yield session
    except UserError as exc:
        errors.print(f"[red]{refusal}:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        database.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline(MAX_PASSWORD_LENGTH + 2).rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(
    username: str,
    role: Annotated[Role, typer.Option(help="What the user does.")],
    full_name: Annotated[str, typer.Option(help="Name shown in the console and the audit log.")],
    organization: Annotated[
        str | None, typer.Option(help="Organization code (akimat, utility company, police…).")
    ] = None,
    police_unit: Annotated[
        str | None, typer.Option(help="Police unit code, for duty officers.")
    ] = None,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Add a user. The password is asked for (never given on the command line).

    Audited as the operating-system login (cli:<login>)."""
    password = _read_password(password_stdin)
    with _transaction(config, "cannot add user") as session:
        user = add_user(
            session,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            organization_code=organization,
            police_unit_code=police_unit,
        )
        audit_cli_change(
            session, action="user.add", target=f"user:{user.id}", details=user_facts(user)
        )
    console.print(f"added {escape(user.username)} ({role.label})", highlight=False)


@app.command("list")
def list_users(
    role: Annotated[Role | None, typer.Option(help="Only this role.")] = None,
    organization: Annotated[str | None, typer.Option(help="Only this organization (code).")] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Only active, or only deactivated, users."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Users by username, with their role, organization, police unit and whether they may sign
    in."""
    database = database_or_exit(settings_or_exit(config))
    try:
        with database.sessions() as session:
            users = list(
                session.scalars(
                    users_query(role=role, organization_code=organization, active=active)
                )
            )
            table = Table("username", "full name", "role", "organization", "police unit", "active")
            for user in users:
                table.add_row(
                    escape(user.username),
                    escape(user.full_name),
                    user.role.label,
                    escape(user.organization.code) if user.organization else "",
                    escape(user.police_unit.code) if user.police_unit else "",
                    "yes" if user.is_active else "[red]no[/red]",
                )
    finally:
        database.dispose()
    if users:
        console.print(table)
    else:
        console.print("no matching users")


@app.command("show")
def show(username: Username, config: ConfigOption = None) -> None:
    """One user: role, organization, police unit, whether active, open sessions."""
    with _transaction(config, "cannot show user") as session:
        user = user_named(session, username)
        lines = [
            f"username: {user.username}",
            f"full name: {user.full_name}",
            f"role: {user.role.label} ({user.role.value})",
            f"organization: {user.organization.code if user.organization else '—'}",
            f"police unit: {user.police_unit.code if user.police_unit else '—'}",
            f"active: {'yes' if user.is_active else 'no'}",
            f"added: {user.created_at:%Y-%m-%d %H:%M} UTC",
            f"open sessions: {open_sessions(session, user)}",
        ]
    console.print(escape("\n".join(lines)), highlight=False)


@app.command("edit")
def edit(
    username: Username,
    full_name: Annotated[str | None, typer.Option(help="New full name.")] = None,
    role: Annotated[Role | None, typer.Option(help="New role.")] = None,
    organization: Annotated[str | None, typer.Option(help="New organization (code).")] = None,
    no_organization: Annotated[bool, typer.Option(help="Belong to no organization.")] = False,
    police_unit: Annotated[str | None, typer.Option(help="New police unit (code).")] = None,
    no_police_unit: Annotated[bool, typer.Option(help="Serve in no police unit.")] = False,
    config: ConfigOption = None,
) -> None:
    """Change a user's full name, role, organization or police unit; the result must meet the
    role's rules, and the last active admin stays one."""
    with _transaction(config, "cannot edit user") as session:
        if organization is not None and no_organization:
            raise UserError("give --organization or --no-organization, not both")
        if police_unit is not None and no_police_unit:
            raise UserError("give --police-unit or --no-police-unit, not both")
        user = user_named(session, username)
        changes = edit_user(
            session,
            user,
            full_name=full_name if full_name is not None else KEEP,
            role=role if role is not None else KEEP,
            organization=(
                None
                if no_organization
                else find_organization(session, code=organization)
                if organization is not None
                else KEEP
            ),
            police_unit=(
                None
                if no_police_unit
                else find_police_unit(session, code=police_unit)
                if police_unit is not None
                else KEEP
            ),
        )
        if changes:
            audit_cli_change(
                session,
                action="user.update",
                target=f"user:{user.id}",
                details={"username": user.username, "changed": changes},
            )
    if not changes:
        console.print(f"{escape(username)}: nothing to change", highlight=False)
    for field, change in changes.items():
        console.print(
            escape(f"{username}: {field} {change['from']} → {change['to']}"), highlight=False
        )


@app.command("deactivate")
def deactivate(username: Username, config: ConfigOption = None) -> None:
    """Stop a user signing in; their open sessions end now. Refused for the last active admin."""
    with _transaction(config, "cannot deactivate user") as session:
        user = user_named(session, username)
        ended = deactivate_user(session, user)
        audit_cli_change(
            session,
            action="user.deactivate",
            target=f"user:{user.id}",
            details={"username": user.username, "sessions_ended": ended},
        )
    console.print(f"deactivated {escape(username)}; {ended} session(s) ended", highlight=False)


@app.command("activate")
def activate(username: Username, config: ConfigOption = None) -> None:
    """Let a deactivated user sign in again, with the password they had."""
    with _transaction(config, "cannot activate user") as session:
        user = user_named(session, username)
        activate_user(session, user)
        audit_cli_change(
            session,
            action="user.activate",
            target=f"user:{user.id}",
            details={"username": user.username},
        )
    console.print(f"activated {escape(username)}", highlight=False)


@app.command("reset-password")
def reset(
    username: Username,
    generate: Annotated[
        bool, typer.Option(help="Generate a password and print it once, instead of asking.")
    ] = False,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Give a user a new password; their open sessions end."""
    if generate and password_stdin:
        errors.print(
            "[red]cannot reset password:[/red] give --generate or --password-stdin, not both"
        )
        raise typer.Exit(1)
    password = None if generate else _read_password(password_stdin)
    with _transaction(config, "cannot reset password") as session:
        user = user_named(session, username)
        generated, ended = reset_password(session, user, password)
        audit_cli_change(
            session,
            action="user.password_reset",
            target=f"user:{user.id}",
            details={
                "username": user.username,
                "generated": generated is not None,
                "sessions_ended": ended,
            },
        )
    console.print(
        f"new password set for {escape(username)}; {ended} session(s) ended", highlight=False
    )
    if generated is not None:
        console.print(f"password (shown once): {generated}", highlight=False)


@app.command("sign-out")
def sign_out(username: Username, config: ConfigOption = None) -> None:
    """End every session a user has; they may sign in again with their password."""
    with _transaction(config, "cannot sign out user") as session:
        user = user_named(session, username)
        ended = close_all_sessions(session, user.id)
        audit_cli_change(
            session,
            action="user.sign_out_everywhere",
            target=f"user:{user.id}",
            details={"username": user.username, "sessions_ended": ended},
        )
    console.print(f"signed {escape(username)} out: {ended} session(s) ended", highlight=False)
