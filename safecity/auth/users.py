"""Adding users, with the links each role needs checked before anything is stored."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from safecity.auth.roles import Role
from safecity.city.models import Organization, OrganizationKind, PoliceUnit

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

# The organization kind a role must belong to; a role missing here may belong to any or none.
REQUIRED_ORGANIZATION_KIND = {
    Role.AKIMAT: OrganizationKind.AKIMAT,
    Role.UTILITY: OrganizationKind.UTILITY,
    Role.POLICE_DUTY_OFFICER: OrganizationKind.POLICE,
}


class UserError(ValueError):
    """A user that cannot be added as asked; the message says why."""


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
    if not USERNAME.match(username):
        raise UserError(
            "a username is 2–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"username {username!r} is taken")

    organization = None
    if organization_code is not None:
        organization = session.scalar(
            select(Organization).where(Organization.code == organization_code)
        )
        if organization is None:
            raise UserError(f"no organization with code {organization_code!r}")
    police_unit = None
    if police_unit_code is not None:
        police_unit = session.scalar(select(PoliceUnit).where(PoliceUnit.code == police_unit_code))
        if police_unit is None:
            raise UserError(f"no police unit with code {police_unit_code!r}")
    if role is Role.POLICE_DUTY_OFFICER:
        if police_unit is None:
            raise UserError("a police duty officer needs --police-unit")
        organization = organization or police_unit.organization

    required = REQUIRED_ORGANIZATION_KIND.get(role)
    if required is not None and (organization is None or organization.kind is not required):
        raise UserError(
            f"a {role.label.lower()} user must belong to a {required.value} organization"
        )

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
