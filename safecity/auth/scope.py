"""Turn a user's scope into SQL conditions. Every camera and site query goes through these."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

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
        organization_is_city_wide_akimat=bool(
            organization
            and organization.kind is OrganizationKind.AKIMAT
            and organization.district_id is None
        ),
        police_unit_district_ids=unit_districts,
    )


def camera_condition(scope: Scope) -> ColumnElement[bool]:
    if scope.city_wide:
        return true()
    if scope.district_ids:
        return Camera.district_id.in_(sorted(scope.district_ids))
    if scope.site_owner_id is not None:
        owned = select(Site.id).where(Site.owner_organization_id == scope.site_owner_id)
        return Camera.site_id.in_(owned)
    return false()


def site_condition(scope: Scope) -> ColumnElement[bool]:
    if scope.city_wide:
        return true()
    if scope.district_ids:
        return Site.district_id.in_(sorted(scope.district_ids))
    if scope.site_owner_id is not None:
        return Site.owner_organization_id == scope.site_owner_id
    return false()
