"""Camera requests as the API takes and gives them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.bounds import Id, Latitude, Line, Longitude, Paragraph
from safecity.planning.requests.importing import MAX_JUSTIFICATION
from safecity.planning.requests.models import CameraRequest, RequestStatus, Urgency
from safecity.planning.requests.workflow import moves_from

Reason = Annotated[Paragraph, Field(max_length=2000)]


class RequestIn(BaseModel):
    """A request for a camera: a map point (latitude and longitude), or an address and a
    district; optionally the site it is for."""

    latitude: Latitude | None = None
    longitude: Longitude | None = None
    address: Annotated[Paragraph | None, Field(max_length=300)] = None
    district_id: Id | None = Field(
        default=None, description="Required with an address alone; with a point, a cross-check."
    )
    site_id: Id | None = None
    justification: Annotated[Paragraph, Field(min_length=1, max_length=MAX_JUSTIFICATION)]
    urgency: Urgency = Urgency.NORMAL
    organization_id: Id | None = Field(
        default=None,
        description="The asking organization: your own if left out; the programme office "
        "(administrator) names the akimat or police organization it registers a request for.",
    )


class DecisionIn(BaseModel):
    reason: Reason | None = Field(
        default=None, description="Why: required to reject, optional to approve."
    )


class InstallIn(BaseModel):
    """The camera put up for the request, by id or by code; it must lie in the request's
    district."""

    camera_id: Id | None = None
    camera_code: Annotated[Line | None, Field(max_length=64)] = None


class RequestOut(BaseModel):
    id: int
    number: str
    status: RequestStatus
    urgency: Urgency
    organization_id: int
    organization: str
    organization_code: str
    district_id: int
    district: str
    site_id: int | None
    site_code: str | None
    site_name: str | None
    latitude: float | None
    longitude: float | None
    address: str | None
    justification: str
    decision_reason: str | None
    camera_id: int | None
    camera_code: str | None
    submitted_by: str | None
    decided_by: str | None
    submitted_at: datetime
    decided_at: datetime | None
    installed_at: datetime | None
    updated_at: datetime
    allowed: list[str] = Field(description="The moves the workflow allows from here.")


class RequestPage(BaseModel):
    items: list[RequestOut]
    total: int
    limit: int
    offset: int
    by_status: dict[RequestStatus, int] = Field(
        description="How many match the other filters in each status (the board's columns)."
    )


class ImportProblem(BaseModel):
    where: str
    reasons: list[str]


class ImportOut(BaseModel):
    outcome: str = Field(description="stored, dry_run or rejected (bad rows: nothing stored).")
    rows: int
    good: int
    bad: int
    stored: list[str] = Field(description="The numbers of the requests stored, in file order.")
    skipped: int
    columns: dict[str, str] = Field(description="Field → the column it was read from.")
    ignored_columns: list[str]
    problems: list[ImportProblem]


def request_outs(session: Session, requests: list[CameraRequest]) -> list[RequestOut]:
    """The requests as the API gives them; their relations loaded, the users in one query."""
    user_ids = {
        user_id
        for request in requests
        for user_id in (request.submitted_by_id, request.decided_by_id)
        if user_id is not None
    }
    usernames = (
        {
            user_id: name
            for user_id, name in session.execute(
                select(User.id, User.username).where(User.id.in_(user_ids))
            )
        }
        if user_ids
        else {}
    )
    return [
        RequestOut(
            id=request.id,
            number=request.number,
            status=request.status,
            urgency=request.urgency,
            organization_id=request.organization_id,
            organization=request.organization.name,
            organization_code=request.organization.code,
            district_id=request.district_id,
            district=request.district.name,
            site_id=request.site_id,
            site_code=request.site.code if request.site else None,
            site_name=request.site.name if request.site else None,
            latitude=request.latitude,
            longitude=request.longitude,
            address=request.address,
            justification=request.justification,
            decision_reason=request.decision_reason,
            camera_id=request.camera_id,
            camera_code=request.camera.code if request.camera else None,
            submitted_by=usernames.get(request.submitted_by_id or 0),
            decided_by=usernames.get(request.decided_by_id or 0),
            submitted_at=request.submitted_at,
            decided_at=request.decided_at,
            installed_at=request.installed_at,
            updated_at=request.updated_at,
            allowed=[move.name for move in moves_from(request.status)],
        )
        for request in requests
    ]
