"""Managing users: add, edit, deactivate, reset passwords, end sessions. Each change is
checked against ``user_rules`` before anything is stored; callers audit it in the same
transaction (the API as the signed-in admin, the CLI as ``cli:<login>``)."""

from __future__ import annotations

import enum
import secrets
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from safecity.audit.log import hold_append_lock
from safecity.auth.models import LoginSession, User
from safecity.auth.passwords import hash_password
from safecity.auth.roles import Role
from safecity.auth.sessions import close_all_sessions
from safecity.auth.user_rules import (
    UNIT_ROLES,
    Links,
    keeps_an_admin,
    links_problem,
    password_problem,
    username_problem,
)
from safecity.city.models import Organization, PoliceUnit
from safecity.core.clock import utcnow


class UserError(ValueError):
    """A change to a user that cannot be made as asked; the message says why."""


class UserConflict(UserError):
    """A change the user's present state refuses: already in that state, or the last admin."""


class _Keep(enum.Enum):
    KEEP = enum.auto()


KEEP = _Keep.KEEP
"""Leave this field of the user as it is (``None`` clears an organization or a unit)."""


def find_organization(
    session: Session, *, code: str | None = None, id: int | None = None
) -> Organization | None:
    """The organization with this code or id (None when neither is given)."""
    if code is not None and id is not None:
        raise UserError("name the organization by its code or its id, not both")
    if code is not None:
        found = session.scalar(select(Organization).where(Organization.code == code))
        if found is None:
            raise UserError(f"no organization with code {code!r}")
        return _active(found, "organization")
    if id is not None:
        by_id = session.get(Organization, id)
        if by_id is None:
            raise UserError(f"no organization with id {id}")
        return _active(by_id, "organization")
    return None


def find_police_unit(
    session: Session, *, code: str | None = None, id: int | None = None
) -> PoliceUnit | None:
    """The police unit with this code or id (None when neither is given)."""
    if code is not None and id is not None:
        raise UserError("name the police unit by its code or its id, not both")
    if code is not None:
        found = session.scalar(select(PoliceUnit).where(PoliceUnit.code == code))
        if found is None:
            raise UserError(f"no police unit with code {code!r}")
        return _active(found, "police unit")
    if id is not None:
        by_id = session.get(PoliceUnit, id)
        if by_id is None:
            raise UserError(f"no police unit with id {id}")
        return _active(by_id, "police unit")
    return None


Linked = TypeVar("Linked", Organization, PoliceUnit)


def _active(found: Linked, what: str) -> Linked:
    """Nobody joins a deactivated organization or unit (safecity.city.folder keeps the
    converse: neither is deactivated while active users belong to it)."""
    if not found.active:
        raise UserError(f"{what} {found.code!r} is deactivated")
    return found


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user named {username!r}")
    return user


def users_query(
    *, role: Role | None = None, organization_code: str | None = None, active: bool | None = None
) -> Select[User]:
    """Users matching every filter given, by username, with their organization and unit."""
    query = select(User).options(joinedload(User.organization), joinedload(User.police_unit))
    if role is not None:
        query = query.where(User.role == role)
    if organization_code is not None:
        query = query.join(User.organization).where(Organization.code == organization_code)
    if active is not None:
        query = query.where(User.is_active == active)
    return query.order_by(User.username)


def open_sessions(session: Session, user: User) -> int:
    """How many unexpired logins the user has now."""
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.expires_at > utcnow())
        )
        or 0
    )


def generate_password() -> str:
    """A random password to hand over once: 120 bits, in letters, digits, '-' and '_'."""
    return secrets.token_urlsafe(15)


def user_facts(user: User) -> dict[str, Any]:
    """What the audit log says of a user: never the password or its hash."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        # As stored: a duty officer's organization comes from their unit.
        "organization": user.organization.code if user.organization else None,
        "police_unit": user.police_unit.code if user.police_unit else None,
    }


def _check_links(
    role: Role, organization: Organization | None, police_unit: PoliceUnit | None
) -> None:
    problem = links_problem(
        role,
        Links(
            organization_id=organization.id if organization else None,
            organization_kind=organization.kind if organization else None,
            police_unit_id=police_unit.id if police_unit else None,
            unit_organization_id=police_unit.organization_id if police_unit else None,
        ),
    )
    if problem is not None:
        raise UserError(problem)


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise UserError(problem)


def _keep_an_admin(session: Session, user: User, *, stays_active_admin: bool) -> None:
    """Refuse a change that would leave no active administrator. Changes to admins are
    serialized first (the audit log's lock, which the change takes anyway), so two admins
    demoting each other at once cannot both see the other still there."""
    if not (user.is_active and user.role is Role.ADMIN):
        return
    hold_append_lock(session)
    others = (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
        )
        or 0
    )
    if not keeps_an_admin(other_active_admins=others, stays_active_admin=stays_active_admin):
        raise UserConflict(f"{user.username} is the last active administrator: add another first")


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    organization: Organization | None = None,
    police_unit: PoliceUnit | None = None,
) -> User:
    """Add a user. A duty officer named without an organization takes their unit's."""
    problem = username_problem(username)
    if problem is not None:
        raise UserError(problem)
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"username {username!r} is taken")
    if role in UNIT_ROLES and police_unit is not None and organization is None:
        organization = police_unit.organization
    _check_links(role, organization, police_unit)
    user = User(
        username=username,
        full_name=full_name,
        role=role,
        password_hash=hash_password(password),
        organization=organization,
        police_unit=police_unit,
    )
    session.add(user)
    session.flush()
    return user


def add_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    organization_code: str | None = None,
    police_unit_code: str | None = None,
) -> User:
    """``create_user`` with the organization and police unit named by code."""
    return create_user(
        session,
        username=username,
        full_name=full_name,
        role=role,
        password=password,
        organization=find_organization(session, code=organization_code),
        police_unit=find_police_unit(session, code=police_unit_code),
    )


def edit_user(
    session: Session,
    user: User,
    *,
    full_name: str | _Keep = KEEP,
    role: Role | _Keep = KEEP,
    organization: Organization | _Keep | None = KEEP,
    police_unit: PoliceUnit | _Keep | None = KEEP,
) -> dict[str, dict[str, Any]]:
    """Change what is given; returns each changed field as {"from", "to"} (organization and
    unit by code), empty when nothing changed. A duty officer whose organization is not given
    follows their unit's."""
    new_role = user.role if role is KEEP else role
    new_unit = user.police_unit if police_unit is KEEP else police_unit
    new_organization = user.organization if organization is KEEP else organization
    if organization is KEEP and new_role in UNIT_ROLES and new_unit is not None:
        new_organization = new_unit.organization
    _check_links(new_role, new_organization, new_unit)
    if new_role is not Role.ADMIN:
        _keep_an_admin(session, user, stays_active_admin=False)

    def code(linked: Organization | PoliceUnit | None) -> str | None:
        return linked.code if linked is not None else None

    changes: dict[str, dict[str, Any]] = {}
    if full_name is not KEEP and full_name != user.full_name:
        changes["full_name"] = {"from": user.full_name, "to": full_name}
        user.full_name = full_name
    if new_role is not user.role:
        changes["role"] = {"from": user.role.value, "to": new_role.value}
        user.role = new_role
    if new_organization is not user.organization:
        changes["organization"] = {"from": code(user.organization), "to": code(new_organization)}
        user.organization = new_organization
    if new_unit is not user.police_unit:
        changes["police_unit"] = {"from": code(user.police_unit), "to": code(new_unit)}
        user.police_unit = new_unit
    session.flush()
    return changes


def deactivate_user(session: Session, user: User) -> int:
    """Stop the user signing in and end their sessions now; how many sessions ended."""
    if not user.is_active:
        raise UserConflict(f"{user.username} is already deactivated")
    _keep_an_admin(session, user, stays_active_admin=False)
    user.is_active = False
    session.flush()
    return close_all_sessions(session, user.id)


def activate_user(session: Session, user: User) -> None:
    """Let a deactivated user sign in again (with the password they had)."""
    if user.is_active:
        raise UserConflict(f"{user.username} is already active")
    user.is_active = True
    session.flush()


def reset_password(session: Session, user: User, password: str | None) -> tuple[str | None, int]:
    """Set ``password``, or a generated one when None, and end the user's sessions: whoever
    knew the old one is signed out. Returns the generated password (else None), to be shown
    once and stored nowhere, and how many sessions ended."""
    generated: str | None = None
    if password is None:
        password = generated = generate_password()
    _check_password(password)
    user.password_hash = hash_password(password)
    session.flush()
    return generated, close_all_sessions(session, user.id)
