"""Legal hold endpoints: list, place and release the holds that keep recordings from
retention. Cut to the caller's scope like every camera query: a camera (or a hold on a camera)
outside it answers 404, exactly like one that does not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.scoped import ScopedCamera
from safecity.audit.log import record as audit
from safecity.auth.scope import camera_condition
from safecity.bounds import Id, Line, Moment, Paragraph
from safecity.city.models import Camera
from safecity.ops.incidents.attachment_models import IncidentClip
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident
from safecity.video.models import HoldKind, LegalHold
from safecity.video.recording.holds import (
    HOLD_PLACERS,
    HOLD_READERS,
    HOLD_RELEASERS,
    MAX_REASON_LENGTH,
    MAX_REFERENCE_LENGTH,
    HoldAlreadyReleased,
    HoldError,
    HoldRecord,
    get_hold,
    list_holds,
    place_hold,
    release_hold,
)

router = APIRouter(prefix="/api", tags=["holds"])

HOLD_NOT_FOUND = "no such hold, or not yours to see"


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Moment = Field(description="First moment to keep, with its time zone.")
    end: Moment = Field(description="Last moment to keep; after the start.")
    reason: Paragraph = Field(min_length=1, max_length=MAX_REASON_LENGTH, description="Why.")
    reference: Line | None = Field(
        default=None,
        max_length=MAX_REFERENCE_LENGTH,
        description="Incident number, case or evidence package that asks for it.",
    )


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Paragraph = Field(
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="Why the recordings may go (the case closed, the request withdrawn…).",
    )


class HoldOut(BaseModel):
    id: int
    camera_id: int
    camera_code: str
    start: datetime
    end: datetime
    kind: HoldKind
    reason: str
    reference: str | None
    placed_by: str | None = Field(description="User name; empty when the system placed it.")
    placed_at: datetime
    active: bool
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None


def _out(record: HoldRecord) -> HoldOut:
    return HoldOut(
        id=record.id,
        camera_id=record.camera_id,
        camera_code=record.camera_code,
        start=record.starts_at,
        end=record.ends_at,
        kind=record.kind,
        reason=record.reason,
        reference=record.reference,
        placed_by=record.placed_by,
        placed_at=record.placed_at,
        active=record.active,
        released_at=record.released_at,
        released_by=record.released_by,
        release_reason=record.release_reason,
    )


@router.get(
    "/cameras/{camera_id}/holds",
    response_model=list[HoldOut],
    dependencies=[Depends(require_role(*HOLD_READERS))],
)
def camera_holds(
    camera: ScopedCamera,
    session: DbSession,
    active: Annotated[bool, Query(description="Only holds not yet released.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HoldOut]:
    """The camera's holds, the latest stretch first."""
    return [
        _out(record)
        for record in list_holds(session, camera_id=camera.id, active_only=active, limit=limit)
    ]


@router.post(
    "/cameras/{camera_id}/holds",
    response_model=HoldOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_role(*HOLD_PLACERS))],
)
def place_camera_hold(
    camera: ScopedCamera, body: HoldIn, session: DbSession, user: CurrentUser
) -> HoldOut:
    """Keep the camera's recordings from ``start`` to ``end`` until the hold is released."""
    try:
        hold = place_hold(
            session,
            camera_id=camera.id,
            starts_at=body.start,
            ends_at=body.end,
            reason=body.reason,
            reference=body.reference,
            placed_by=user,
        )
    except HoldError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    audit(
        session,
        action="hold.place",
        actor=user.username,
        actor_id=user.id,
        target=f"hold:{hold.id}",
        details={
            "camera_id": camera.id,
            "start": body.start.isoformat(),
            "end": body.end.isoformat(),
            "reason": body.reason,
            "reference": body.reference,
        },
    )
    return _out(get_hold(session, hold.id))


@router.post(
    "/holds/{hold_id}/release",
    response_model=HoldOut,
    dependencies=[Depends(require_role(*HOLD_RELEASERS))],
)
def release(
    hold_id: Id, body: ReleaseIn, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> HoldOut:
    """Let retention treat the held recordings like any others again, saying why. Refused
    (409) while an incident that is not closed links the clip the hold keeps: unlink it from
    the incident first, which releases the hold. Releasing a hold twice is refused (409) so
    that the first release, and who made it, stays on record."""
    visible = session.scalar(
        select(LegalHold.id)
        .join(Camera, Camera.id == LegalHold.camera_id)
        .where(LegalHold.id == hold_id, camera_condition(scope))
    )
    if visible is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=HOLD_NOT_FOUND)
    linking = session.scalar(
        select(Incident.number)
        .join(IncidentClip, IncidentClip.incident_id == Incident.id)
        .where(
            IncidentClip.hold_id == hold_id,
            IncidentClip.unlinked_at.is_(None),
            Incident.status != IncidentStatus.CLOSED,
        )
        .limit(1)
    )
    if linking is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"incident {linking} links the clip this hold keeps; unlink the clip from "
            "the incident (with a reason) to release it",
        )
    try:
        released = release_hold(session, hold_id, released_by=user, reason=body.reason)
    except HoldAlreadyReleased as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except HoldError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    audit(
        session,
        action="hold.release",
        actor=user.username,
        actor_id=user.id,
        target=f"hold:{hold_id}",
        details={"camera_id": released.camera_id, "reason": released.release_reason},
    )
    return _out(released)
