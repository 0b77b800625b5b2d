"""Sites (parks, schools, yards, utility facilities) for admins: list, read, create, change,
(de)activate."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
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
from safecity.city.admin.outputs import site_out
from safecity.city.admin.schemas import (
    CityChange,
    SiteAdminOut,
    SiteChange,
    SiteIn,
)
from safecity.city.folder.description import (
    SiteEntry,
)
from safecity.city.folder.stored import site_entry
from safecity.city.models import Site

router = APIRouter()


@router.get("/sites", response_model=list[SiteAdminOut], summary="List sites")
def admin_list_sites(
    session: DbSession,
    active: ActiveFilter = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    after_code: Annotated[
        str | None, Query(max_length=64, description="Page after this code.")
    ] = None,
) -> list[SiteAdminOut]:
    query = (
        select(Site)
        .options(joinedload(Site.district), joinedload(Site.owner))
        .order_by(Site.code)
        .limit(limit)
    )
    if active is not None:
        query = query.where(Site.active.is_(active))
    if after_code is not None:
        query = query.where(Site.code > after_code)
    return [site_out(site) for site in session.scalars(query)]


@router.get("/sites/{site_id}", response_model=SiteAdminOut, summary="One site")
def admin_get_site(site_id: Id, session: DbSession) -> SiteAdminOut:
    return site_out(stored(session, Site, site_id))


@router.post(
    "/sites",
    response_model=CityChange[SiteAdminOut],
    status_code=status.HTTP_201_CREATED,
    summary="Create a site with its schedule and tasks",
)
def admin_create_site(body: SiteIn, session: DbSession, user: CurrentUser) -> CityChange[Any]:
    refuse_taken_code(session, Site, body.code)
    sent = sent_fields(body)
    entry = SiteEntry(
        where=REQUEST,
        code=body.code,
        name=body.name,
        kind=body.kind,
        address=body.address,
        latitude=body.latitude,
        longitude=body.longitude,
        area=body.area,
        owner_code=body.owner_code,
        schedule=sent.get("schedule", ()),
        tasks=sent.get("tasks", ()),
        retention_days=body.retention_days,
        retention_bytes=body.retention_bytes,
    )
    report = apply_change(session, user, before=None, after=entry, action="site.create")
    created = session.scalars(select(Site).where(Site.code == body.code)).one()
    return change_out(site_out(created), report)


@router.patch(
    "/sites/{site_id}",
    response_model=CityChange[SiteAdminOut],
    summary="Edit a site, its schedule and tasks",
)
def admin_update_site(
    site_id: Id, body: SiteChange, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    before = site_entry(stored(session, Site, site_id))
    changes = sent_fields(body)
    if "area" in changes and changes["area"] is not None:
        changes.update(latitude=None, longitude=None)
    elif changes.get("latitude") is not None:
        changes["area"] = None
    after = dataclasses.replace(before, where=REQUEST, **changes)
    report = apply_change(session, user, before=before, after=after, action="site.update")
    return change_out(site_out(stored(session, Site, site_id)), report)


@router.post(
    "/sites/{site_id}/deactivate",
    response_model=CityChange[SiteAdminOut],
    summary="Deactivate a site",
    description="It is no longer watched; its cameras stay where they are.",
)
def admin_deactivate_site(site_id: Id, session: DbSession, user: CurrentUser) -> CityChange[Any]:
    return set_active(session, user, Site, site_id, False)


@router.post(
    "/sites/{site_id}/activate",
    response_model=CityChange[SiteAdminOut],
    summary="Activate a site again",
)
def admin_activate_site(site_id: Id, session: DbSession, user: CurrentUser) -> CityChange[Any]:
    return set_active(session, user, Site, site_id, True)
