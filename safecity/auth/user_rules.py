"""What a user record must be: a username, a password, and the organization and police unit
its role needs. Pure: the API, the CLI and ``users.py`` ask here, so a rule lives in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from safecity.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
USERNAME_RULE = (
    "a username is 2–64 lower-case letters, digits, '.', '_' or '-', "
    "starting with a letter or digit"
)

REQUIRED_ORGANIZATION_KIND = {
    Role.AKIMAT: OrganizationKind.AKIMAT,
    Role.UTILITY: OrganizationKind.UTILITY,
    Role.POLICE_DUTY_OFFICER: OrganizationKind.POLICE,
}
"""The organization kind a role must belong to; a role missing here may belong to any or none."""

UNIT_ROLES = frozenset({Role.POLICE_DUTY_OFFICER})
"""Who serves in a police unit: their scope is the unit's districts (``roles.scope_for``)."""


def _a(words: str) -> str:
    """``words`` after "a" or "an", as one says them: "an akimat", "an OCC operator", but "a
    utility company" (no role or organization kind starts with a sounded "u")."""
    return f"an {words}" if words[0] in "aeio" else f"a {words}"


def username_problem(username: str) -> str | None:
    return None if USERNAME.match(username) else USERNAME_RULE


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be set, or None. The upper bound is what sign-in accepts, so no
    one is given a password they could never type in."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    return None


@dataclass(frozen=True)
class Links:
    """A user's organization and police unit, as the rules see them."""

    organization_id: int | None
    organization_kind: OrganizationKind | None
    police_unit_id: int | None
    unit_organization_id: int | None
    """The organization the police unit belongs to (None without a unit)."""


def links_problem(role: Role, links: Links) -> str | None:
    """Why a user with ``role`` cannot have ``links``, or None.

    A police duty officer needs a unit and belongs to its organization; only they have a unit.
    An akimat, utility or police user belongs to an organization of that kind, since that is
    what their scope is read from: without it they would see nothing (or, worse, the wrong
    city part)."""
    if role in UNIT_ROLES:
        if links.police_unit_id is None:
            return f"{_a(role.label.lower())} needs a police unit"
        if links.organization_id != links.unit_organization_id:
            return f"{_a(role.label.lower())} belongs to the organization of their police unit"
    elif links.police_unit_id is not None:
        return f"only a police duty officer has a police unit, not {_a(role.label.lower())} user"
    required = REQUIRED_ORGANIZATION_KIND.get(role)
    if required is not None and links.organization_kind is not required:
        return f"{_a(role.label.lower())} user must belong to {_a(required.value)} organization"
    return None


def keeps_an_admin(*, other_active_admins: int, stays_active_admin: bool) -> bool:
    """Whether a change to one user leaves at least one active administrator: with none, no one
    could manage users or the city from the console again."""
    return stays_active_admin or other_active_admins > 0
