"""Turn a user's scope into SQL conditions. Every camera and site query goes through these."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from safecity.auth.models import User
from safecity.auth.roles import Scope, scope_for
from safecity.city.models import Camera, OrganizationKind, Site, police_unit_districts


def resolve_scope(session: Session, user: User) -> Scope:
    organization = user.organization
    unit_districts: frozenset[int] | None = None
    if user.police_unit_id is not None:
        rows = session.scalars(
            select(police_unit_districts.c.district_id).where(
                police_unit_districts.c.police_unit_id == user.police_unit_id
            )
        )
        unit_districts = frozenset(rows)
    return scope_for(
        user.role,
        organization_id=organization.id if organization else None,
        organization_district_id=(
            organization.district_id
            if organization and organization.kind is OrganizationKind.AKIMAT
            else None
        ),
        organization_is_city_wide=bool(
            organization and organization.kind is OrganizationKind.AKIMAT and organization.city_wide
        ),
        police_unit_district_ids=unit_districts,
    )


def district_condition(scope: Scope, district_id: SQLCoreOperations[int]) -> ColumnElement[bool]:
    """Rows that belong to a district (crime records, police coverage): visible where the
    whole district is; an organization scoped to its own sites sees none of them."""
    if scope.city_wide:
        return true()
    if scope.district_ids:
        return district_id.in_(sorted(scope.district_ids))
    return false()


def camera_condition(scope: Scope) -> ColumnElement[bool]:
    if scope.owner_organization_id is not None and not scope.city_wide:
        owned = select(Site.id).where(Site.owner_organization_id == scope.owner_organization_id)
        return Camera.site_id.in_(owned)
    return district_condition(scope, Camera.district_id)


def site_condition(scope: Scope) -> ColumnElement[bool]:
    if scope.owner_organization_id is not None and not scope.city_wide:
        return Site.owner_organization_id == scope.owner_organization_id
    return district_condition(scope, Site.district_id)
