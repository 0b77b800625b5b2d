"""Districts for admins: list, read, create, change, redraw the outlines, (de)activate."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, status
from sqlalchemy import select

from safecity.api.deps import CurrentUser, DbSession
from safecity.bounds import Id
from safecity.city.admin.changes import (
    REQUEST,
    ActiveFilter,
    KeepOutside,
    apply_change,
    change_out,
    changed_fields,
    refuse_taken_code,
    sent_fields,
    set_active,
    stored,
    write_change,
)
from safecity.city.admin.outputs import district_out
from safecity.city.admin.schemas import (
    CityChange,
    DistrictAdminOut,
    DistrictChange,
    DistrictIn,
    DistrictOutline,
)
from safecity.city.folder.checks import CityDescription
from safecity.city.folder.description import (
    DistrictEntry,
)
from safecity.city.folder.stored import district_entry
from safecity.city.models import District

router = APIRouter()


@router.get("/districts", response_model=list[DistrictAdminOut], summary="List districts")
def admin_list_districts(session: DbSession, active: ActiveFilter = None) -> list[DistrictAdminOut]:
    query = select(District).order_by(District.code)
    if active is not None:
        query = query.where(District.active.is_(active))
    return [district_out(district) for district in session.scalars(query)]


@router.get("/districts/{district_id}", response_model=DistrictAdminOut, summary="One district")
def admin_get_district(district_id: Id, session: DbSession) -> DistrictAdminOut:
    return district_out(stored(session, District, district_id))


@router.post(
    "/districts",
    response_model=CityChange[DistrictAdminOut],
    status_code=status.HTTP_201_CREATED,
    summary="Create a district",
    description="Cameras and sites that lie in the new district move into it; the answer lists them.",
)
def admin_create_district(
    body: DistrictIn, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    refuse_taken_code(session, District, body.code)
    entry = DistrictEntry(REQUEST, body.code, body.name, body.population, body.geometry)
    report = apply_change(session, user, before=None, after=entry, action="district.create")
    created = session.scalars(select(District).where(District.code == body.code)).one()
    return change_out(district_out(created), report)


@router.post(
    "/districts/outlines",
    response_model=CityChange[list[DistrictAdminOut]],
    summary="Redraw several districts at once (move a border)",
    description="A border belongs to two districts: both outlines change together, or the "
    "first would overlap the second. Cameras and sites are located again and the moves listed.",
)
def admin_redraw_districts(
    body: Annotated[list[DistrictOutline], Body(min_length=1, max_length=500)],
    session: DbSession,
    user: CurrentUser,
    keep_outside: KeepOutside = False,
) -> CityChange[Any]:
    stored = {
        district.code: district
        for district in session.scalars(
            select(District).where(District.code.in_([outline.code for outline in body]))
        )
    }
    unknown = sorted({outline.code for outline in body} - set(stored))
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {"loc": ["body"], "msg": f"unknown district {code!r}", "type": "city"}
                for code in unknown
            ],
        )
    if len(stored) != len(body):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[{"loc": ["body"], "msg": "a district is given twice", "type": "city"}],
        )
    before = {code: district_entry(district) for code, district in stored.items()}
    after = tuple(
        dataclasses.replace(
            before[outline.code], where=f"{REQUEST} {index}", geometry=outline.geometry
        )
        for index, outline in enumerate(body)
    )
    report = write_change(
        session,
        user,
        CityDescription(districts=after),
        action="district.redraw",
        target="districts:" + ",".join(sorted(stored)),
        changed={entry.code: changed_fields(before[entry.code], entry) for entry in after},
        keep_outside=keep_outside,
    )
    redrawn = session.scalars(
        select(District).where(District.code.in_(stored)).order_by(District.code)
    )
    return change_out([district_out(district) for district in redrawn], report)


@router.patch(
    "/districts/{district_id}",
    response_model=CityChange[DistrictAdminOut],
    summary="Edit a district (a new outline moves the border)",
)
def admin_update_district(
    district_id: Id,
    body: DistrictChange,
    session: DbSession,
    user: CurrentUser,
    keep_outside: KeepOutside = False,
) -> CityChange[Any]:
    district = stored(session, District, district_id)
    before = district_entry(district)
    after = dataclasses.replace(before, where=REQUEST, **sent_fields(body))
    report = apply_change(
        session,
        user,
        before=before,
        after=after,
        action="district.update",
        keep_outside=keep_outside,
    )
    return change_out(district_out(stored(session, District, district_id)), report)


@router.post(
    "/districts/{district_id}/deactivate",
    response_model=CityChange[DistrictAdminOut],
    summary="Deactivate a district",
    description="Refused while cameras or sites lie in it (give its area to other districts "
    "first) or an active akimat or police unit names it; the answer names each of them.",
)
def admin_deactivate_district(
    district_id: Id, session: DbSession, user: CurrentUser, keep_outside: KeepOutside = False
) -> CityChange[Any]:
    return set_active(session, user, District, district_id, False, keep_outside)


@router.post(
    "/districts/{district_id}/activate",
    response_model=CityChange[DistrictAdminOut],
    summary="Activate a district again",
)
def admin_activate_district(
    district_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return set_active(session, user, District, district_id, True)
