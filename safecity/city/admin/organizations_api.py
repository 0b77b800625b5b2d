"""Organizations for admins: list, read, create, change, (de)activate."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from safecity.api.deps import CurrentUser, DbSession
from safecity.bounds import Id
from safecity.city.admin.changes import (
    REQUEST,
    ActiveFilter,
    apply_change,
    change_out,
    refuse_taken_code,
    sent_fields,
    set_active,
    stored,
)
from safecity.city.admin.outputs import organization_out
from safecity.city.admin.schemas import (
    CityChange,
    OrganizationAdminOut,
    OrganizationChange,
    OrganizationIn,
)
from safecity.city.folder.description import (
    OrganizationEntry,
)
from safecity.city.folder.stored import organization_entry
from safecity.city.models import Organization

router = APIRouter()


@router.get(
    "/organizations", response_model=list[OrganizationAdminOut], summary="List organizations"
)
def admin_list_organizations(
    session: DbSession, active: ActiveFilter = None
) -> list[OrganizationAdminOut]:
    query = (
        select(Organization).options(joinedload(Organization.district)).order_by(Organization.code)
    )
    if active is not None:
        query = query.where(Organization.active.is_(active))
    return [organization_out(organization) for organization in session.scalars(query)]


@router.get(
    "/organizations/{organization_id}",
    response_model=OrganizationAdminOut,
    summary="One organization",
)
def admin_get_organization(organization_id: Id, session: DbSession) -> OrganizationAdminOut:
    return organization_out(stored(session, Organization, organization_id))


@router.post(
    "/organizations",
    response_model=CityChange[OrganizationAdminOut],
    status_code=status.HTTP_201_CREATED,
    summary="Create an organization",
)
def admin_create_organization(
    body: OrganizationIn, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    refuse_taken_code(session, Organization, body.code)
    entry = OrganizationEntry(
        REQUEST, body.code, body.name, body.kind, body.district_code, body.city_wide
    )
    report = apply_change(session, user, before=None, after=entry, action="organization.create")
    created = session.scalars(select(Organization).where(Organization.code == body.code)).one()
    return change_out(organization_out(created), report)


@router.patch(
    "/organizations/{organization_id}",
    response_model=CityChange[OrganizationAdminOut],
    summary="Edit an organization",
)
def admin_update_organization(
    organization_id: Id, body: OrganizationChange, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    before = organization_entry(stored(session, Organization, organization_id))
    after = dataclasses.replace(before, where=REQUEST, **sent_fields(body))
    report = apply_change(session, user, before=before, after=after, action="organization.update")
    return change_out(organization_out(stored(session, Organization, organization_id)), report)


@router.post(
    "/organizations/{organization_id}/deactivate",
    response_model=CityChange[OrganizationAdminOut],
    summary="Deactivate an organization",
    description="Refused while it has active users, police units or sites; the answer names them.",
)
def admin_deactivate_organization(
    organization_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return set_active(session, user, Organization, organization_id, False)


@router.post(
    "/organizations/{organization_id}/activate",
    response_model=CityChange[OrganizationAdminOut],
    summary="Activate an organization again",
)
def admin_activate_organization(
    organization_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return set_active(session, user, Organization, organization_id, True)
