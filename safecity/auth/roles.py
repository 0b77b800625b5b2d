"""Roles and the part of the city each one may see. Pure: no database here."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    POLICE_DUTY_OFFICER = "police_duty_officer"
    AKIMAT = "akimat"
    UTILITY = "utility"
    ANALYST = "analyst"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Role.ADMIN: "Administrator",
    Role.OPERATOR: "OCC operator",
    Role.POLICE_DUTY_OFFICER: "Police duty officer",
    Role.AKIMAT: "Akimat",
    Role.UTILITY: "Utility company",
    Role.ANALYST: "Analyst",
}

CITY_WIDE_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.ANALYST})
OCC_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
"""The operations centre: who raises and acknowledges alerts and opens and runs incidents."""
REGISTRY_EDITORS = frozenset({Role.ADMIN})
LIVE_VIEWERS = frozenset(role for role in Role if role is not Role.ANALYST)
"""Who may watch live video and take snapshots (within their scope). Analysts work with
figures: they see the cameras on the map, not through them."""


@dataclass(frozen=True)
class Scope:
    """The cameras and sites a user may see.

    City-wide, or limited to a set of districts, or to the sites one organization owns.
    A user whose role lacks the link it needs (an akimat user without a district, an officer
    without a unit) gets an empty scope: access fails closed, never open.
    """

    city_wide: bool = False
    district_ids: frozenset[int] = frozenset()
    owner_organization_id: int | None = None
    """Set for a utility company: it sees the sites it owns and their cameras."""

    @classmethod
    def nothing(cls) -> Scope:
        return cls()

    def sees_district(self, district_id: int) -> bool:
        """The whole district is yours (its cameras, sites and figures)."""
        return self.city_wide or district_id in self.district_ids

    def sees_site(self, district_id: int, owner_organization_id: int | None) -> bool:
        """The same rule as ``site_condition`` in SQL, for one site already loaded."""
        if self.sees_district(district_id):
            return True
        return (
            self.owner_organization_id is not None
            and owner_organization_id == self.owner_organization_id
        )


def scope_for(
    role: Role,
    *,
    organization_id: int | None,
    organization_district_id: int | None,
    organization_is_city_wide: bool,
    police_unit_district_ids: frozenset[int] | None,
) -> Scope:
    """Decide a user's scope from their role and the organization/unit they belong to."""
    if role in CITY_WIDE_ROLES:
        return Scope(city_wide=True)
    if role is Role.POLICE_DUTY_OFFICER:
        return Scope(district_ids=police_unit_district_ids or frozenset())
    if role is Role.AKIMAT:
        if organization_district_id is not None:
            return Scope(district_ids=frozenset({organization_district_id}))
        return Scope(city_wide=True) if organization_is_city_wide else Scope.nothing()
    if role is Role.UTILITY:
        return (
            Scope(owner_organization_id=organization_id)
            if organization_id is not None
            else Scope.nothing()
        )
    return Scope.nothing()
