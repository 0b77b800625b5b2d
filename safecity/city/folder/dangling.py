"""What a change would leave pointing at something deactivated, named so that it is moved or
deactivated first."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.user_rules import REQUIRED_ORGANIZATION_KIND
from safecity.city.folder.description import (
    ORGANIZATIONS_FILE,
    POLICE_UNITS_FILE,
)
from safecity.city.folder.tables import Problem
from safecity.city.models import (
    District,
    Organization,
    OrganizationKind,
    PoliceUnit,
    Site,
    police_unit_districts,
)


def left_without(session: Session) -> list[Problem]:
    """Active things that the change leaves pointing at something deactivated: an akimat
    whose district went, a unit covering a deactivated district, users of a deactivated
    organization or unit, sites of a deactivated owner. Each is named, so that it is moved
    or deactivated first, rather than left to fail at dispatch or sign-in."""
    inactive_district = District.active.is_(False)
    found: list[Problem] = []
    for code, district in session.execute(
        select(Organization.code, District.code)
        .join(District, Organization.district_id == District.id)
        .where(Organization.active, inactive_district)
    ):
        found.append(
            Problem(
                ORGANIZATIONS_FILE,
                f"stored ({code})",
                "district",
                f"district {district!r} is deactivated but akimat {code!r} is still active",
            )
        )
    for code, district in session.execute(
        select(PoliceUnit.code, District.code)
        .join(police_unit_districts, police_unit_districts.c.police_unit_id == PoliceUnit.id)
        .join(District, District.id == police_unit_districts.c.district_id)
        .where(PoliceUnit.active, inactive_district)
    ):
        found.append(
            Problem(
                POLICE_UNITS_FILE,
                f"stored ({code})",
                "districts",
                f"district {district!r} is deactivated but unit {code!r} still covers it",
            )
        )
    for code, organization in session.execute(
        select(PoliceUnit.code, Organization.code)
        .join(Organization, PoliceUnit.organization_id == Organization.id)
        .where(PoliceUnit.active, Organization.active.is_(False))
    ):
        found.append(
            Problem(
                POLICE_UNITS_FILE,
                f"stored ({code})",
                "organization",
                f"organization {organization!r} is deactivated but its unit {code!r} is active",
            )
        )
    for code, organization, kind in session.execute(
        select(PoliceUnit.code, Organization.code, Organization.kind)
        .join(Organization, PoliceUnit.organization_id == Organization.id)
        .where(PoliceUnit.active, Organization.kind != OrganizationKind.POLICE)
    ):
        found.append(
            Problem(
                POLICE_UNITS_FILE,
                f"stored ({code})",
                "organization",
                f"organization {organization!r} is {kind.value} now, but police unit {code!r} "
                "still belongs to it",
            )
        )
    for username, role, organization, kind in session.execute(
        select(User.username, User.role, Organization.code, Organization.kind)
        .join(Organization, User.organization_id == Organization.id)
        .where(User.is_active)
    ):
        required = REQUIRED_ORGANIZATION_KIND.get(role)
        if required is not None and kind is not required:
            found.append(
                Problem(
                    "users",
                    f"stored ({username})",
                    "",
                    f"user {username!r} ({role.value}) must belong to a {required.value} "
                    f"organization, and {organization!r} is {kind.value} now",
                )
            )
    for code, organization in session.execute(
        select(Site.code, Organization.code)
        .join(Organization, Site.owner_organization_id == Organization.id)
        .where(Site.active, Organization.active.is_(False))
    ):
        found.append(
            Problem(
                "sites",
                f"stored ({code})",
                "owner",
                f"organization {organization!r} is deactivated but still owns active site {code!r}",
            )
        )
    for username, organization, organization_active, unit in session.execute(
        select(User.username, Organization.code, Organization.active, PoliceUnit.code)
        .outerjoin(Organization, User.organization_id == Organization.id)
        .outerjoin(PoliceUnit, User.police_unit_id == PoliceUnit.id)
        .where(
            User.is_active,
            or_(Organization.active.is_(False), PoliceUnit.active.is_(False)),
        )
    ):
        gone = (
            f"organization {organization!r}" if organization_active is False else f"unit {unit!r}"
        )
        found.append(
            Problem(
                "users",
                f"stored ({username})",
                "",
                f"{gone} is deactivated but user {username!r} still belongs to it: "
                "deactivate the user or move them first",
            )
        )
    return found
