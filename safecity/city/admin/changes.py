"""The one path every admin change takes: a one-entry city folder through the folder's checks
and writing, audited, refused in FastAPI's 422 shape."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.audit.log import record
from safecity.auth.models import User
from safecity.city.admin.outputs import district_out, organization_out, police_unit_out, site_out
from safecity.city.admin.schemas import (
    CityChange,
    MoveOut,
)
from safecity.city.folder.checks import CityDescription
from safecity.city.folder.description import (
    DistrictEntry,
    OrganizationEntry,
    PoliceUnitEntry,
    SiteEntry,
)
from safecity.city.folder.store import CityImportReport, Move, apply_city
from safecity.city.folder.stored import (
    district_entry,
    organization_entry,
    police_unit_entry,
    site_entry,
)
from safecity.city.folder.tables import Problem
from safecity.city.models import District, Organization, PoliceUnit, Site

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


def apply_change(
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
    return write_change(
        session,
        user,
        description,
        action=action,
        target=f"{action.partition('.')[0]}:{after.code}",
        changed=changed_fields(before, after),
        keep_outside=keep_outside,
        renamed=renamed,
    )


def write_change(
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


def changed_fields(before: Entry | None, after: Entry) -> dict[str, Any]:
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


def change_out(item: Any, report: CityImportReport) -> CityChange[Any]:
    return CityChange[Any](
        item=item,
        moved=_moves(report.moved),
        kept_outside=_moves(report.kept_outside),
        warnings=[str(warning) for warning in report.warnings],
    )


def stored(session: Session, model: type[Model], row_id: int) -> Model:
    found = session.get(model, row_id)
    if found is None:
        what = model.__tablename__.removesuffix("s").replace("_", " ")
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {what} {row_id}")
    return found


def refuse_taken_code(session: Session, model: type[CityModel], code: str) -> None:
    if session.scalar(select(model.id).where(model.code == code)) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"code {code!r} is taken: change that one with PATCH instead",
        )


def with_active(entry: Entry, active: bool) -> Entry:
    return dataclasses.replace(entry, where=REQUEST, active=active)


def sent_fields(body: Any) -> dict[str, Any]:
    """The fields a PATCH sent, as entry fields (lists become tuples, models dicts)."""
    sent: dict[str, Any] = {}
    for name, value in body.model_dump(exclude_unset=True, mode="json").items():
        if isinstance(getattr(body, name), enum.Enum):
            sent[name] = getattr(body, name)
        else:
            sent[name] = tuple(value) if isinstance(value, list) else value
    return sent


# --- deactivating and activating, the same for every kind ------------------------------------

_KINDS: dict[type[CityModel], tuple[str, Callable[[Any], Entry], Callable[[Any], Any]]] = {
    District: ("district", district_entry, district_out),
    Organization: ("organization", organization_entry, organization_out),
    PoliceUnit: ("police_unit", police_unit_entry, police_unit_out),
    Site: ("site", site_entry, site_out),
}
"""Each kind: its name in audit actions, its folder entry and its answer."""


def set_active(
    session: Session,
    user: User,
    model: type[Model],
    row_id: int,
    active: bool,
    keep_outside: bool = False,
) -> CityChange[Any]:
    name, entry_of, out = _KINDS[model]
    before = entry_of(stored(session, model, row_id))
    report = apply_change(
        session,
        user,
        before=before,
        after=with_active(before, active),
        action=f"{name}.{'activate' if active else 'deactivate'}",
        keep_outside=keep_outside,
    )
    return change_out(out(stored(session, model, row_id)), report)
