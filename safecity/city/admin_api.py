"""The city administration API: districts, organizations, police units and sites, for admins.

Every change goes through the city folder's own checks and writing (``safecity.city.folder``)
as a one-entry description, so the API and `safecity city import` accept and refuse exactly
the same things: a new border moves cameras and sites and says so, and whatever would be left
outside every district, or pointing at something deactivated, is named and refused. Nothing
is deleted: a thing that incidents, crime records and the audit log name is deactivated.
Every change is audited in its own transaction.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from safecity.api.deps import CurrentUser, DbSession, require_role
from safecity.audit.log import record
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.bounds import Id
from safecity.city.admin_schemas import (
    CityChange,
    DistrictAdminOut,
    DistrictChange,
    DistrictIn,
    DistrictOutline,
    MoveOut,
    OrganizationAdminOut,
    OrganizationChange,
    OrganizationIn,
    PoliceUnitAdminOut,
    PoliceUnitChange,
    PoliceUnitIn,
    SiteAdminOut,
    SiteChange,
    SiteIn,
)
from safecity.city.folder.checks import CityDescription
from safecity.city.folder.description import (
    DistrictEntry,
    OrganizationEntry,
    PoliceUnitEntry,
    SiteEntry,
)
from safecity.city.folder.store import (
    CityImportReport,
    Move,
    apply_city,
    district_entry,
    organization_entry,
    police_unit_entry,
    site_entry,
)
from safecity.city.folder.tables import Problem
from safecity.city.models import District, Organization, PoliceUnit, Site

router = APIRouter(
    prefix="/api/admin",
    tags=["city administration"],
    dependencies=[Depends(require_role(Role.ADMIN))],
)

REQUEST = "request"
"""Where a problem with the request's own entry is found (against stored things: elsewhere)."""

KeepOutside = Annotated[
    bool,
    Query(
        description="When the change leaves a camera or site outside every district, keep it "
        "in its district instead of refusing the change."
    ),
]
ActiveFilter = Annotated[
    bool | None, Query(description="Only active (true) or deactivated (false) ones; all if absent.")
]

Entry = DistrictEntry | OrganizationEntry | PoliceUnitEntry | SiteEntry
CityModel = District | Organization | PoliceUnit | Site
Model = TypeVar("Model", District, Organization, PoliceUnit, Site)


# --- the one path every change takes ------------------------------------------------------------


def _apply(
    session: Session,
    user: User,
    *,
    before: Entry | None,
    after: Entry,
    action: str,
    keep_outside: bool = False,
) -> CityImportReport:
    description = CityDescription(
        districts=(after,) if isinstance(after, DistrictEntry) else (),
        organizations=(after,) if isinstance(after, OrganizationEntry) else (),
        police_units=(after,) if isinstance(after, PoliceUnitEntry) else (),
        sites=(after,) if isinstance(after, SiteEntry) else (),
        sites_file="sites",
    )
    renamed = {"geometry": "area"} if isinstance(after, SiteEntry) else {}
    return _write(
        session,
        user,
        description,
        action=action,
        target=f"{action.partition('.')[0]}:{after.code}",
        changed=_changes(before, after),
        keep_outside=keep_outside,
        renamed=renamed,
    )


def _write(
    session: Session,
    user: User,
    description: CityDescription,
    *,
    action: str,
    target: str,
    changed: dict[str, Any],
    keep_outside: bool,
    renamed: Mapping[str, str] | None = None,
) -> CityImportReport:
    report = apply_city(session, description, keep_outside=keep_outside)
    if not report.ok:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[_problem_detail(problem, renamed or {}) for problem in report.problems],
        )
    record(
        session,
        action=action,
        actor=user.username,
        actor_id=user.id,
        target=target,
        details={
            "changed": changed,
            "moved": [f"{m.what} {m.code}: {m.before} → {m.after}" for m in report.moved[:100]],
            "moved_count": len(report.moved),
            "kept_outside": [f"{m.what} {m.code}" for m in report.kept_outside[:100]],
        },
    )
    session.flush()
    session.expire_all()  # the folder's store writes with bulk statements
    return report


def _problem_detail(problem: Problem, renamed: Mapping[str, str]) -> dict[str, Any]:
    """A refused change in FastAPI's 422 shape: the request's field, or the stored thing the
    change would break, in words."""
    if problem.where.startswith(REQUEST) and problem.field:
        field = renamed.get(problem.field, problem.field)
        return {"loc": ["body", field], "msg": problem.reason, "type": "city"}
    where = problem.where.removeprefix("stored ").strip("()")
    message = (
        f"{where}: {problem.reason}" if where and where not in problem.reason else problem.reason
    )
    return {"loc": ["city"], "msg": message, "type": "city"}


def _changes(before: Entry | None, after: Entry) -> dict[str, Any]:
    def shown(field: str, value: Any) -> Any:
        if field in {"geometry", "area"} and isinstance(value, Mapping):
            return f"{value.get('type')} ({len(str(value.get('coordinates')))} characters)"
        if isinstance(value, tuple):
            return list(value)
        return value.value if hasattr(value, "value") else value

    fields = [f.name for f in dataclasses.fields(after) if f.name != "where"]
    if before is None:
        return {name: shown(name, getattr(after, name)) for name in fields}
    return {
        name: {"from": shown(name, getattr(before, name)), "to": shown(name, getattr(after, name))}
        for name in fields
        if getattr(before, name) != getattr(after, name)
    }


def _moves(moves: list[Move]) -> list[MoveOut]:
    return [MoveOut(**dataclasses.asdict(move)) for move in moves]


def _change(item: Any, report: CityImportReport) -> CityChange[Any]:
    return CityChange[Any](
        item=item,
        moved=_moves(report.moved),
        kept_outside=_moves(report.kept_outside),
        warnings=[str(warning) for warning in report.warnings],
    )


def _stored(session: Session, model: type[Model], row_id: int) -> Model:
    found = session.get(model, row_id)
    if found is None:
        what = model.__tablename__.removesuffix("s").replace("_", " ")
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {what} {row_id}")
    return found


def _new_code(session: Session, model: type[CityModel], code: str) -> None:
    if session.scalar(select(model.id).where(model.code == code)) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"code {code!r} is taken: change that one with PATCH instead",
        )


def _active_changed(entry: Entry, active: bool) -> Entry:
    return dataclasses.replace(entry, where=REQUEST, active=active)


# --- districts ---------------------------------------------------------------------------------


def _district_out(district: District) -> DistrictAdminOut:
    return DistrictAdminOut(
        id=district.id,
        code=district.code,
        name=district.name,
        population=district.population,
        geometry=district.geometry,
        active=district.active,
    )


@router.get("/districts", response_model=list[DistrictAdminOut], summary="List districts")
def admin_list_districts(session: DbSession, active: ActiveFilter = None) -> list[DistrictAdminOut]:
    query = select(District).order_by(District.code)
    if active is not None:
        query = query.where(District.active.is_(active))
    return [_district_out(district) for district in session.scalars(query)]


@router.get("/districts/{district_id}", response_model=DistrictAdminOut, summary="One district")
def admin_get_district(district_id: Id, session: DbSession) -> DistrictAdminOut:
    return _district_out(_stored(session, District, district_id))


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
    _new_code(session, District, body.code)
    entry = DistrictEntry(REQUEST, body.code, body.name, body.population, body.geometry)
    report = _apply(session, user, before=None, after=entry, action="district.create")
    created = session.scalars(select(District).where(District.code == body.code)).one()
    return _change(_district_out(created), report)


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
    report = _write(
        session,
        user,
        CityDescription(districts=after),
        action="district.redraw",
        target="districts:" + ",".join(sorted(stored)),
        changed={entry.code: _changes(before[entry.code], entry) for entry in after},
        keep_outside=keep_outside,
    )
    redrawn = session.scalars(
        select(District).where(District.code.in_(stored)).order_by(District.code)
    )
    return _change([_district_out(district) for district in redrawn], report)


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
    district = _stored(session, District, district_id)
    before = district_entry(district)
    after = dataclasses.replace(before, where=REQUEST, **_sent(body))
    report = _apply(
        session,
        user,
        before=before,
        after=after,
        action="district.update",
        keep_outside=keep_outside,
    )
    return _change(_district_out(_stored(session, District, district_id)), report)


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
    return _set_active(session, user, District, district_id, False, keep_outside)


@router.post(
    "/districts/{district_id}/activate",
    response_model=CityChange[DistrictAdminOut],
    summary="Activate a district again",
)
def admin_activate_district(
    district_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return _set_active(session, user, District, district_id, True)


def _sent(body: Any) -> dict[str, Any]:
    """The fields a PATCH sent, as entry fields (lists become tuples, models dicts)."""
    sent: dict[str, Any] = {}
    for name, value in body.model_dump(exclude_unset=True, mode="json").items():
        if isinstance(getattr(body, name), enum.Enum):
            sent[name] = getattr(body, name)
        else:
            sent[name] = tuple(value) if isinstance(value, list) else value
    return sent


# --- organizations -----------------------------------------------------------------------------


def _organization_out(organization: Organization) -> OrganizationAdminOut:
    return OrganizationAdminOut(
        id=organization.id,
        code=organization.code,
        name=organization.name,
        kind=organization.kind,
        district_code=organization.district.code if organization.district else None,
        city_wide=organization.city_wide,
        active=organization.active,
    )


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
    return [_organization_out(organization) for organization in session.scalars(query)]


@router.get(
    "/organizations/{organization_id}",
    response_model=OrganizationAdminOut,
    summary="One organization",
)
def admin_get_organization(organization_id: Id, session: DbSession) -> OrganizationAdminOut:
    return _organization_out(_stored(session, Organization, organization_id))


@router.post(
    "/organizations",
    response_model=CityChange[OrganizationAdminOut],
    status_code=status.HTTP_201_CREATED,
    summary="Create an organization",
)
def admin_create_organization(
    body: OrganizationIn, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    _new_code(session, Organization, body.code)
    entry = OrganizationEntry(
        REQUEST, body.code, body.name, body.kind, body.district_code, body.city_wide
    )
    report = _apply(session, user, before=None, after=entry, action="organization.create")
    created = session.scalars(select(Organization).where(Organization.code == body.code)).one()
    return _change(_organization_out(created), report)


@router.patch(
    "/organizations/{organization_id}",
    response_model=CityChange[OrganizationAdminOut],
    summary="Edit an organization",
)
def admin_update_organization(
    organization_id: Id, body: OrganizationChange, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    before = organization_entry(_stored(session, Organization, organization_id))
    after = dataclasses.replace(before, where=REQUEST, **_sent(body))
    report = _apply(session, user, before=before, after=after, action="organization.update")
    return _change(_organization_out(_stored(session, Organization, organization_id)), report)


@router.post(
    "/organizations/{organization_id}/deactivate",
    response_model=CityChange[OrganizationAdminOut],
    summary="Deactivate an organization",
    description="Refused while it has active users, police units or sites; the answer names them.",
)
def admin_deactivate_organization(
    organization_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return _set_active(session, user, Organization, organization_id, False)


@router.post(
    "/organizations/{organization_id}/activate",
    response_model=CityChange[OrganizationAdminOut],
    summary="Activate an organization again",
)
def admin_activate_organization(
    organization_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return _set_active(session, user, Organization, organization_id, True)


# --- police units ------------------------------------------------------------------------------


def _police_unit_out(unit: PoliceUnit) -> PoliceUnitAdminOut:
    entry = police_unit_entry(unit)
    return PoliceUnitAdminOut(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        organization_code=entry.organization_code,
        phone=unit.phone,
        district_codes=list(entry.district_codes),
        fallback=unit.is_fallback,
        active=unit.active,
    )


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
    return [_police_unit_out(unit) for unit in session.scalars(query)]


@router.get("/police-units/{unit_id}", response_model=PoliceUnitAdminOut, summary="One police unit")
def admin_get_police_unit(unit_id: Id, session: DbSession) -> PoliceUnitAdminOut:
    return _police_unit_out(_stored(session, PoliceUnit, unit_id))


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
    _new_code(session, PoliceUnit, body.code)
    entry = PoliceUnitEntry(
        REQUEST,
        body.code,
        body.name,
        body.organization_code,
        body.phone,
        tuple(body.district_codes),
        body.fallback,
    )
    report = _apply(session, user, before=None, after=entry, action="police_unit.create")
    created = session.scalars(select(PoliceUnit).where(PoliceUnit.code == body.code)).one()
    return _change(_police_unit_out(created), report)


@router.patch(
    "/police-units/{unit_id}",
    response_model=CityChange[PoliceUnitAdminOut],
    summary="Edit a police unit (districts covered, fallback…)",
)
def admin_update_police_unit(
    unit_id: Id, body: PoliceUnitChange, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    before = police_unit_entry(_stored(session, PoliceUnit, unit_id))
    after = dataclasses.replace(before, where=REQUEST, **_sent(body))
    report = _apply(session, user, before=before, after=after, action="police_unit.update")
    return _change(_police_unit_out(_stored(session, PoliceUnit, unit_id)), report)


@router.post(
    "/police-units/{unit_id}/deactivate",
    response_model=CityChange[PoliceUnitAdminOut],
    summary="Deactivate a police unit",
    description="It is dispatched nothing more. Refused while active duty officers belong to it.",
)
def admin_deactivate_police_unit(
    unit_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return _set_active(session, user, PoliceUnit, unit_id, False)


@router.post(
    "/police-units/{unit_id}/activate",
    response_model=CityChange[PoliceUnitAdminOut],
    summary="Activate a police unit again",
)
def admin_activate_police_unit(
    unit_id: Id, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    return _set_active(session, user, PoliceUnit, unit_id, True)


# --- sites -------------------------------------------------------------------------------------


def _site_out(site: Site) -> SiteAdminOut:
    return SiteAdminOut(
        id=site.id,
        code=site.code,
        name=site.name,
        kind=site.kind,
        address=site.address,
        latitude=site.latitude,
        longitude=site.longitude,
        area=site.area,
        district_code=site.district.code,
        owner_code=site.owner.code if site.owner else None,
        schedule=site.schedule or [],
        tasks=site.tasks or [],
        retention_days=site.retention_days,
        retention_bytes=site.retention_bytes,
        active=site.active,
    )


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
    return [_site_out(site) for site in session.scalars(query)]


@router.get("/sites/{site_id}", response_model=SiteAdminOut, summary="One site")
def admin_get_site(site_id: Id, session: DbSession) -> SiteAdminOut:
    return _site_out(_stored(session, Site, site_id))


@router.post(
    "/sites",
    response_model=CityChange[SiteAdminOut],
    status_code=status.HTTP_201_CREATED,
    summary="Create a site with its schedule and tasks",
)
def admin_create_site(body: SiteIn, session: DbSession, user: CurrentUser) -> CityChange[Any]:
    _new_code(session, Site, body.code)
    sent = _sent(body)
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
    report = _apply(session, user, before=None, after=entry, action="site.create")
    created = session.scalars(select(Site).where(Site.code == body.code)).one()
    return _change(_site_out(created), report)


@router.patch(
    "/sites/{site_id}",
    response_model=CityChange[SiteAdminOut],
    summary="Edit a site, its schedule and tasks",
)
def admin_update_site(
    site_id: Id, body: SiteChange, session: DbSession, user: CurrentUser
) -> CityChange[Any]:
    before = site_entry(_stored(session, Site, site_id))
    changes = _sent(body)
    if "area" in changes and changes["area"] is not None:
        changes.update(latitude=None, longitude=None)
    elif changes.get("latitude") is not None:
        changes["area"] = None
    after = dataclasses.replace(before, where=REQUEST, **changes)
    report = _apply(session, user, before=before, after=after, action="site.update")
    return _change(_site_out(_stored(session, Site, site_id)), report)


@router.post(
    "/sites/{site_id}/deactivate",
    response_model=CityChange[SiteAdminOut],
    summary="Deactivate a site",
    description="It is no longer watched; its cameras stay where they are.",
)
def admin_deactivate_site(site_id: Id, session: DbSession, user: CurrentUser) -> CityChange[Any]:
    return _set_active(session, user, Site, site_id, False)


@router.post(
    "/sites/{site_id}/activate",
    response_model=CityChange[SiteAdminOut],
    summary="Activate a site again",
)
def admin_activate_site(site_id: Id, session: DbSession, user: CurrentUser) -> CityChange[Any]:
    return _set_active(session, user, Site, site_id, True)


# --- deactivating and activating, the same for every kind ------------------------------------

_KINDS: dict[type[CityModel], tuple[str, Callable[[Any], Entry], Callable[[Any], Any]]] = {
    District: ("district", district_entry, _district_out),
    Organization: ("organization", organization_entry, _organization_out),
    PoliceUnit: ("police_unit", police_unit_entry, _police_unit_out),
    Site: ("site", site_entry, _site_out),
}
"""Each kind: its name in audit actions, its folder entry and its answer."""


def _set_active(
    session: Session,
    user: User,
    model: type[Model],
    row_id: int,
    active: bool,
    keep_outside: bool = False,
) -> CityChange[Any]:
    name, entry_of, out = _KINDS[model]
    before = entry_of(_stored(session, model, row_id))
    report = _apply(
        session,
        user,
        before=before,
        after=_active_changed(before, active),
        action=f"{name}.{'activate' if active else 'deactivate'}",
        keep_outside=keep_outside,
    )
    return _change(out(_stored(session, model, row_id)), report)
