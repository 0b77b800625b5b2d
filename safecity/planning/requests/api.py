"""Camera requests over HTTP: the board (listed and filtered), submitting one or a CSV batch,
and the programme office's review, decision and installation.

Cut to what the caller may see, in SQL (``service.request_condition``): a request outside it
answers 404 exactly like a missing one. A role that may not act answers 403; a move the
workflow does not have from the request's status answers 409 and names the moves it has.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, joinedload

from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.scoped import visible_site
from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.auth.roles import Scope
from safecity.bounds import Id, Offset
from safecity.city.districts import stored_district_locator
from safecity.city.models import Camera, District, Organization
from safecity.planning.requests import batch, service
from safecity.planning.requests.importing import RequestFileError, parse_csv, serialise
from safecity.planning.requests.models import CameraRequest, RequestStatus, Urgency
from safecity.planning.requests.rules import (
    Draft,
    Submitter,
    district_problem,
    organization_problem,
    role_problem,
)
from safecity.planning.requests.schemas import (
    DecisionIn,
    ImportOut,
    ImportProblem,
    InstallIn,
    RequestIn,
    RequestOut,
    RequestPage,
    request_outs,
)
from safecity.planning.requests.workflow import (
    DECIDERS,
    READERS,
    SUBMITTERS,
    NotAllowed,
    ReasonRequired,
)

router = APIRouter(prefix="/api/planning/requests", tags=["planning"])

NOT_FOUND = "no such request, or not yours to see"
EXPORT_COLUMNS = (
    "number",
    "status",
    "urgency",
    "organization",
    "district",
    "latitude",
    "longitude",
    "address",
    "site",
    "justification",
    "submitted_at",
    "decided_at",
    "decision_reason",
    "camera",
    "installed_at",
)

Readers = Depends(require_role(*READERS))
Deciders = Depends(require_role(*DECIDERS))


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=message)


def _submitter(user: User, scope: Scope) -> Submitter:
    return Submitter(user.role, user.organization_id, scope)


def _actor(user: User) -> service.Actor:
    return service.Actor(user.username, user.id)


def _loaded(query: Select[CameraRequest]) -> Select[CameraRequest]:
    return query.options(
        joinedload(CameraRequest.organization),
        joinedload(CameraRequest.district),
        joinedload(CameraRequest.site),
        joinedload(CameraRequest.camera),
    )


def visible_request(session: Session, user: User, scope: Scope, request_id: int) -> CameraRequest:
    # Not eagerly loaded: a move locks the row (FOR NO KEY UPDATE), which PostgreSQL refuses
    # over the outer joins of eager loading.
    found = session.scalar(
        select(CameraRequest).where(
            CameraRequest.id == request_id,
            service.request_condition(user.role, user.organization_id, scope),
        )
    )
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return found


def _one(session: Session, request: CameraRequest) -> RequestOut:
    session.refresh(request)
    return request_outs(session, [request])[0]


@dataclass(frozen=True)
class Filters:
    """The board's and the export's filters, over the requests the caller may see."""

    visible: ColumnElement[bool]
    statuses: list[RequestStatus] | None
    district_id: int | None
    organization_id: int | None
    urgencies: list[Urgency] | None

    def query(self, *, by_status: bool = True) -> Select[CameraRequest]:
        query = select(CameraRequest).where(self.visible)
        if self.district_id is not None:
            query = query.where(CameraRequest.district_id == self.district_id)
        if self.organization_id is not None:
            query = query.where(CameraRequest.organization_id == self.organization_id)
        if self.urgencies:
            query = query.where(CameraRequest.urgency.in_(self.urgencies))
        if by_status and self.statuses:
            query = query.where(CameraRequest.status.in_(self.statuses))
        return query


def request_filters(
    user: CurrentUser,
    scope: CurrentScope,
    request_status: Annotated[list[RequestStatus] | None, Query(alias="status")] = None,
    district_id: Id | None = None,
    organization_id: Id | None = None,
    urgency: Annotated[list[Urgency] | None, Query()] = None,
) -> Filters:
    return Filters(
        service.request_condition(user.role, user.organization_id, scope),
        request_status,
        district_id,
        organization_id,
        urgency,
    )


RequestFilters = Annotated[Filters, Depends(request_filters)]
_URGENCY_RANK = case(
    {level.value: rank for rank, level in enumerate(reversed(list(Urgency)))},
    value=CameraRequest.urgency,
    else_=len(Urgency),
)
"""Urgent first, low last."""


@router.get("", response_model=RequestPage, dependencies=[Readers])
def list_requests(
    session: DbSession,
    filters: RequestFilters,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> RequestPage:
    """Requests you may see, the most urgent and the longest waiting first; ``by_status``
    counts what the other filters leave in each status (the board's columns)."""
    requests = filters.query()
    total = session.scalar(select(func.count()).select_from(requests.subquery())) or 0
    counts: dict[RequestStatus, int] = {
        found: count
        for found, count in session.execute(
            filters.query(by_status=False)
            .with_only_columns(CameraRequest.status, func.count())
            .group_by(CameraRequest.status)
        )
    }
    page = session.scalars(
        _loaded(requests)
        .order_by(_URGENCY_RANK, CameraRequest.submitted_at, CameraRequest.id)
        .limit(limit)
        .offset(offset)
    ).unique()
    return RequestPage(
        items=request_outs(session, list(page)),
        total=total,
        limit=limit,
        offset=offset,
        by_status={state: counts.get(state, 0) for state in RequestStatus},
    )


@router.get(
    "/export.csv",
    response_class=Response,
    dependencies=[Readers],
    responses={200: {"content": {"text/csv": {}}, "description": "One line per request."}},
)
def export_requests(session: DbSession, filters: RequestFilters) -> Response:
    """The requests you may see, with the board's filters, as CSV (it imports back: each
    request in it, whatever its status, is reported as stored already, not stored twice; a
    cell a spreadsheet would run as a formula is written behind a single quote)."""
    rows = [
        {
            **out.model_dump(),
            "organization": out.organization_code,
            "district": out.district,
            "site": out.site_code,
            "camera": out.camera_code,
            "status": out.status.value,
            "urgency": out.urgency.value,
        }
        for out in request_outs(
            session,
            list(session.scalars(_loaded(filters.query()).order_by(CameraRequest.number)).unique()),
        )
    ]
    return Response(
        serialise(rows, EXPORT_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="camera-requests.csv"'},
    )


@router.post(
    "",
    response_model=RequestOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_role(*SUBMITTERS))],
)
def submit_request(
    body: RequestIn, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> RequestOut:
    """Ask for a camera at a map point, or at an address in a district. An akimat user asks
    for their akimat in their district; a duty officer for the police in their unit's
    districts; the administrator for any akimat or police organization (organization_id)."""
    submitter = _submitter(user, scope)
    refused = role_problem(submitter)
    if refused:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=refused)
    if not body.justification.strip():
        raise _unprocessable("justification: say why a camera is needed there")
    organization_id = body.organization_id
    if organization_id is None and not submitter.for_others:
        organization_id = user.organization_id
    found = session.get(Organization, organization_id) if organization_id else None
    organization = service.asking_organization(found) if found else None
    problem = organization_problem(
        submitter, organization, None if organization_id is None else str(organization_id)
    )
    if problem:
        raise _unprocessable(problem)
    assert organization is not None
    district_id = _district_of(session, body)
    district = session.get(District, district_id)
    assert district is not None
    outside = district_problem(submitter, organization, district_id, district.name)
    if outside:
        raise (
            _unprocessable(outside)
            if submitter.for_others
            else HTTPException(status.HTTP_403_FORBIDDEN, detail=outside)
        )
    if body.site_id is not None:
        site = visible_site(session, scope, body.site_id)
        if site.district_id != district_id:
            raise _unprocessable(f"site_id: {site.code} lies in another district")
    created = service.store_request(
        session,
        _actor(user),
        Draft(
            organization_id=organization.id,
            district_id=district_id,
            justification=body.justification.strip(),
            urgency=body.urgency,
            latitude=body.latitude,
            longitude=body.longitude,
            address=body.address.strip() if body.address and body.address.strip() else None,
            site_id=body.site_id,
        ),
    )
    return _one(session, created)


def _district_of(session: Session, body: RequestIn) -> int:
    """The district of the map point (a stated one must agree), or the stated one for an
    address; 422 saying what is missing or wrong."""
    if (body.latitude is None) != (body.longitude is None):
        raise _unprocessable("give both latitude and longitude, or neither")
    if body.latitude is not None and body.longitude is not None:
        found = stored_district_locator(session).locate(body.latitude, body.longitude)
        if found is None:
            raise _unprocessable("that point is outside every district")
        if body.district_id is not None and body.district_id != found:
            raise _unprocessable("district_id: the point lies in another district")
        return found
    if not (body.address and body.address.strip()) or body.district_id is None:
        raise _unprocessable(
            "give a map point (latitude, longitude), or an address and district_id"
        )
    district = session.get(District, body.district_id)
    if district is None or not district.active:
        raise _unprocessable("district_id: no such district")
    return district.id


async def _csv_body(request: Request) -> bytes:
    # The app refuses a body over api.max_request_kib (413) before it is read whole.
    return await request.body()


@router.post(
    "/import",
    response_model=ImportOut,
    dependencies=[Depends(require_role(*SUBMITTERS))],
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
def import_requests(
    data: Annotated[bytes, Depends(_csv_body)],
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportOut | JSONResponse:
    """Submit many requests from a CSV file (the body): columns organization, latitude,
    longitude, address, district, site, urgency, justification (docs/planning.md). Every
    row is checked first; with any bad row nothing is stored (422 with each row's problems)
    unless skip_invalid: 422 with `detail` in words and the whole `report`. dry_run checks
    and stores nothing."""
    try:
        parsed = parse_csv(data)
    except RequestFileError as exc:
        raise _unprocessable(f"the file: {exc}; nothing stored") from exc
    try:
        report = batch.import_requests(
            session,
            parsed,
            _submitter(user, scope),
            _actor(user),
            skip_invalid=skip_invalid,
            dry_run=dry_run,
        )
    except ValueError as exc:  # an unusable district polygon
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    if report.outcome is batch.ImportOutcome.STORED:
        audit(
            session,
            action="camera_requests.import",
            actor=user.username,
            actor_id=user.id,
            target="camera_requests",
            details={
                "sha256": hashlib.sha256(data).hexdigest(),
                "stored": list(report.numbers),
                "skipped": report.skipped,
            },
        )
    validation = report.validation
    out = ImportOut(
        outcome=report.outcome.value,
        rows=len(validation.rows) + len(validation.problems),
        good=len(validation.rows),
        bad=len(validation.problems),
        stored=list(report.numbers),
        skipped=report.skipped,
        columns=dict(parsed.columns),
        ignored_columns=list(parsed.ignored_columns),
        problems=[
            ImportProblem(where=p.where, reasons=list(p.reasons)) for p in validation.problems
        ],
    )
    if report.outcome is batch.ImportOutcome.REJECTED:
        return JSONResponse(
            {
                "detail": f"{out.bad} bad rows of {out.rows}: nothing stored (see report.problems)",
                "report": out.model_dump(mode="json"),
            },
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return out


@router.get("/{request_id}", response_model=RequestOut, dependencies=[Readers])
def get_request(
    request_id: Id, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> RequestOut:
    return request_outs(session, [visible_request(session, user, scope, request_id)])[0]


def _move(
    session: Session,
    user: User,
    scope: Scope,
    request_id: int,
    name: str,
    *,
    reason: str | None = None,
    camera: Camera | None = None,
) -> RequestOut:
    request = visible_request(session, user, scope, request_id)
    try:
        service.move(session, request, _actor(user), name, reason=reason, camera=camera)
    except NotAllowed as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail={"message": str(exc), "allowed": exc.allowed}
        ) from exc
    except (ReasonRequired, service.RequestError) as exc:
        raise _unprocessable(str(exc)) from exc
    return _one(session, request)


@router.post("/{request_id}/review", response_model=RequestOut, dependencies=[Deciders])
def review_request(
    request_id: Id, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> RequestOut:
    """Take a submitted request under review."""
    return _move(session, user, scope, request_id, "review")


@router.post("/{request_id}/approve", response_model=RequestOut, dependencies=[Deciders])
def approve_request(
    request_id: Id,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
    body: DecisionIn | None = None,
) -> RequestOut:
    """Approve a request under review; the reason is optional."""
    reason = body.reason if body else None
    return _move(session, user, scope, request_id, "approve", reason=reason)


@router.post("/{request_id}/reject", response_model=RequestOut, dependencies=[Deciders])
def reject_request(
    request_id: Id, body: DecisionIn, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> RequestOut:
    """Reject a request under review, saying why (required)."""
    return _move(session, user, scope, request_id, "reject", reason=body.reason)


@router.post("/{request_id}/install", response_model=RequestOut, dependencies=[Deciders])
def install_request(
    request_id: Id, body: InstallIn, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> RequestOut:
    """Mark an approved request installed, linked to the camera put up for it (by id or
    code), which must lie in the request's district."""
    if (body.camera_id is None) == (body.camera_code is None):
        raise _unprocessable("camera: give camera_id or camera_code (one of them)")
    visible_request(session, user, scope, request_id)
    condition = (
        Camera.id == body.camera_id
        if body.camera_id is not None
        else Camera.code == body.camera_code
    )
    camera = session.scalar(select(Camera).where(condition))
    if camera is None:
        named = body.camera_id if body.camera_id is not None else repr(body.camera_code)
        raise _unprocessable(f"camera: no camera {named}")
    return _move(session, user, scope, request_id, "install", camera=camera)
