"""Incident types over HTTP. Everyone signed in reads them (the console offers the active ones
when an operator opens an incident, and names old incidents by them); admins create and edit
them. A changed checklist becomes the type's next version: open incidents keep theirs.
Every change is audited with the type before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from safecity.api.deps import CurrentUser, DbSession, get_current_user, require_role
from safecity.audit.log import record as audit
from safecity.auth.roles import Role
from safecity.bounds import Line
from safecity.city.crime_register import CrimeKind
from safecity.ops.incident_types import (
    CODE_PATTERN,
    HIGHEST_PRIORITY,
    LOWEST_PRIORITY,
    MAX_CODE,
    MAX_NAME,
    MAX_STEP,
    MAX_STEPS,
    IncidentType,
)
from safecity.ops.incident_types.models import StoredIncidentType
from safecity.ops.incident_types.store import all_types, find_type, save_type, take_types_turn

router = APIRouter(
    prefix="/api/incident-types", tags=["incident types"], dependencies=[Depends(get_current_user)]
)
ADMIN = [Depends(require_role(Role.ADMIN))]
TYPE_NOT_FOUND = "no such incident type"

Code = Annotated[str, Field(min_length=1, max_length=MAX_CODE, pattern=CODE_PATTERN)]
TypeCode = Annotated[str, Path(min_length=1, max_length=MAX_CODE, pattern=CODE_PATTERN)]
Name = Annotated[Line, Field(min_length=1, max_length=MAX_NAME)]
Priority = Annotated[
    int,
    Field(ge=HIGHEST_PRIORITY, le=LOWEST_PRIORITY, description="1 most urgent … 4 least."),
]
Step = Annotated[Line, Field(min_length=1, max_length=MAX_STEP)]
Checklist = Annotated[
    list[Step],
    Field(min_length=1, max_length=MAX_STEPS, description="The SOP steps, in order."),
]
CRIME_KIND_DOC = "The crime register kind it counts as in the statistics; null: not a crime."


class IncidentTypeOut(BaseModel):
    code: str
    name: str
    default_priority: int = Field(description="1 most urgent … 4 least.")
    sop: list[str] = Field(description="The current checklist: what a new incident gets.")
    sop_version: int = Field(description="The current checklist's version (1, 2, …).")
    crime_kind: CrimeKind | None = Field(description=CRIME_KIND_DOC)
    active: bool = Field(description="Offered for new incidents; false: names old ones only.")


class ChecklistVersionOut(BaseModel):
    version: int
    steps: list[str]
    created_at: datetime
    created_by: str


class IncidentTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    default_priority: Priority
    crime_kind: CrimeKind | None = Field(default=None, description=CRIME_KIND_DOC)
    sop: Checklist


class IncidentTypePatch(BaseModel):
    """Only the fields given change; a different ``sop`` becomes the next checklist version."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    default_priority: Priority | None = None
    crime_kind: CrimeKind | None = Field(default=None, description=f"{CRIME_KIND_DOC} Omit: keep.")
    sop: Checklist | None = None
    active: bool | None = Field(
        default=None, description="false: deactivate (kept for its incidents); true: offer again."
    )


def _out(stored: StoredIncidentType) -> IncidentTypeOut:
    return IncidentTypeOut(
        code=stored.code,
        name=stored.name,
        default_priority=stored.default_priority,
        sop=list(stored.checklist.steps),
        sop_version=stored.checklist.version,
        crime_kind=stored.crime_kind,
        active=stored.active,
    )


def _audited(stored: StoredIncidentType) -> dict[str, Any]:
    return _out(stored).model_dump(mode="json")


def _stored(session: DbSession, code: str) -> StoredIncidentType:
    stored = find_type(session, code)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=TYPE_NOT_FOUND)
    return stored


def _record(
    session: DbSession,
    request: Request,
    user: CurrentUser,
    action: str,
    code: str,
    **details: dict[str, Any] | None,
) -> None:
    audit(
        session,
        action=action,
        actor=user.username,
        actor_id=user.id,
        target=f"incident_type:{code}",
        details=details,
        address=request.client.host if request.client else None,
    )


@router.get("", response_model=list[IncidentTypeOut], summary="List incident types")
def list_incident_types(session: DbSession) -> list[IncidentTypeOut]:
    """Every incident type by name, deactivated ones too (marked ``active: false``): old
    incidents are still named by them, but only active ones can open new incidents."""
    return [_out(stored) for stored in all_types(session)]


@router.post(
    "",
    response_model=IncidentTypeOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=ADMIN,
    summary="Create an incident type",
)
def create_incident_type(
    body: IncidentTypeIn, session: DbSession, user: CurrentUser, request: Request
) -> IncidentTypeOut:
    """A new type with checklist version 1; 409 when the code is taken (edit that one)."""
    take_types_turn(session)
    if find_type(session, body.code) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"incident type {body.code!r} exists: edit it"
        )
    kind = IncidentType(
        body.code, body.name, body.default_priority, body.crime_kind, tuple(body.sop)
    )
    save_type(session, kind, author=user.username)
    stored = _stored(session, body.code)
    _record(session, request, user, "incident_type.create", body.code, after=_audited(stored))
    return _out(stored)


@router.patch(
    "/{code}", response_model=IncidentTypeOut, dependencies=ADMIN, summary="Edit an incident type"
)
def edit_incident_type(
    code: TypeCode,
    body: IncidentTypePatch,
    session: DbSession,
    user: CurrentUser,
    request: Request,
) -> IncidentTypeOut:
    """Change the name, default priority, crime kind, checklist or whether it is offered. A
    changed checklist becomes the next version, for incidents opened from now on."""
    take_types_turn(session)
    stored = _stored(session, code)
    before = _audited(stored)
    current = stored.as_type()
    given = body.model_fields_set
    kind = IncidentType(
        code=code,
        name=body.name if body.name is not None else current.name,
        default_priority=(
            body.default_priority if body.default_priority is not None else current.default_priority
        ),
        crime_kind=body.crime_kind if "crime_kind" in given else current.crime_kind,
        checklist=tuple(body.sop) if body.sop is not None else current.checklist,
        active=body.active if body.active is not None else current.active,
    )
    change = save_type(session, kind, author=user.username)
    if change.changed:
        _record(
            session,
            request,
            user,
            "incident_type.update",
            code,
            before=before,
            after=_audited(stored),
        )
    return _out(stored)


@router.get(
    "/{code}/checklists",
    response_model=list[ChecklistVersionOut],
    dependencies=ADMIN,
    summary="Checklist versions of an incident type",
)
def checklist_versions(code: TypeCode, session: DbSession) -> list[ChecklistVersionOut]:
    """Every version of the type's checklist, oldest first: incidents opened under an older
    version still show it."""
    return [
        ChecklistVersionOut.model_validate(version, from_attributes=True)
        for version in _stored(session, code).checklists
    ]
