"""Police units for admins: list, read, create, change, (de)activate."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

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
from safecity.city.admin.outputs import police_unit_out
from safecity.city.admin.schemas import (
    CityChange,
    PoliceUnitAdminOut,
    PoliceUnitChange,
    PoliceUnitIn,
)
from safecity.city.folder.description import (
    PoliceUnitEntry,
)
from safecity.city.folder.stored import police_unit_entry
from safecity.city.models import PoliceUnit

router = APIRouter()


@router.get("/police-units", response_model=list[PoliceUnitAdminOut], summary="List police units")
def admin_list_police_units(
    session: DbSession, active: ActiveFilter = None
) -> list[PoliceUnitAdminOut]:
    query = (
        select(PoliceUnit)
        .options(joinedload(PoliceUnit.organization), selectinload(PoliceUnit.districts))
        .order_by(PoliceUnit.code)
    )
    if active is not None:
        query = query.where(PoliceUnit.active.is_(active))
    return [police_unit_out(unit) for unit in session.scalars(query)]


@router.get("/police-units/{unit_id}", response_model=PoliceUnitAdminOut, summary="One police unit")
def admin_get_police_unit(unit_id: Id, session: DbSession) -> PoliceUnitAdminOut:
    return police_unit_out(stored(session, PoliceUnit, unit_id))


@router.post(
    "/police-units",
    response_model=CityChange[PoliceUnitAdminOut],
    status_code=status.HTTP_201_CREATED,
    summary="Create a police unit",
    description="Dispatch routes incidents in its districts to it from the next incident on.",
)
def admin_create_police_unit(
    body: PoliceUnitIn, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    refuse_taken_code(session, PoliceUnit, body.code)
    entry = PoliceUnitEntry(
        REQUEST,
        body.code,
        body.name,
        body.organization_code,
        body.phone,
        tuple(body.district_codes),
        body.fallback,
    )
    report = apply_change(session, user, before=None, after=entry, action="police_unit.create")
    created = session.scalars(select(PoliceUnit).where(PoliceUnit.code == body.code)).one()
    return change_out(police_unit_out(created), report)


@router.patch(
    "/police-units/{unit_id}",
    response_model=CityChange[PoliceUnitAdminOut],
    summary="Edit a police unit (districts covered, fallback…)",
)
def admin_update_police_unit(
    unit_id: Id, body: PoliceUnitChange, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    before = police_unit_entry(stored(session, PoliceUnit, unit_id))
    after = dataclasses.replace(before, where=REQUEST, **sent_fields(body))
    report = apply_change(session, user, before=before, after=after, action="police_unit.update")
    return change_out(police_unit_out(stored(session, PoliceUnit, unit_id)), report)


@router.post(
    "/police-units/{unit_id}/deactivate",
    response_model=CityChange[PoliceUnitAdminOut],
    summary="Deactivate a police unit",
    description="It is dispatched nothing more. Refused while active duty officers belong to it.",
)
def admin_deactivate_police_unit(
    unit_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return set_active(session, user, PoliceUnit, unit_id, False)


@router.post(
    "/police-units/{unit_id}/activate",
    response_model=CityChange[PoliceUnitAdminOut],
    summary="Activate a police unit again",
)
def admin_activate_police_unit(
    unit_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return set_active(session, user, PoliceUnit, unit_id, True)
