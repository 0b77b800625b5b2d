"""An incident's linked clips over HTTP: stretches of a camera's recordings linked to it, each
kept by a legal hold until unlinked with a reason (see ``materials`` for the access rules and
the live feed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.scoped import visible_camera
from safecity.auth.models import User
from safecity.bounds import Id, Moment, Paragraph
from safecity.city.models import Camera
from safecity.ops.incidents import attachments as service
from safecity.ops.incidents import clips as incident_clips
from safecity.ops.incidents.attachment_models import IncidentClip
from safecity.ops.incidents.materials_http import (
    MaterialsIncident,
    Reason,
    announce,
    commit,
    http_error,
)
from safecity.ops.incidents.scoped import visible_incident
from safecity.ops.models import Incident
from safecity.video.recording.holds import HOLD_PLACERS, HOLD_RELEASERS

router = APIRouter(prefix="/api", tags=["operations"])

CLIP_NOT_FOUND = "no such clip on this incident"


class ClipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_id: Id
    start: Moment = Field(description="First moment of the clip, with its time zone.")
    end: Moment = Field(description="Last moment; after the start, at most 24 h later.")
    note: Paragraph | None = Field(default=None, max_length=incident_clips.MAX_NOTE_LENGTH)


class Gap(BaseModel):
    start: datetime
    end: datetime


class ClipOut(BaseModel):
    id: int
    incident_id: int
    camera_id: int
    camera_code: str
    start: datetime
    end: datetime
    note: str | None
    hold_id: int = Field(description="The legal hold that keeps these recordings.")
    linked_by: str
    linked_at: datetime
    linked: bool = Field(description="False once unlinked (the row stays, stamped).")
    unlinked_by: str | None
    unlinked_at: datetime | None
    unlink_reason: str | None
    playback_url: str
    recorded: bool = Field(description="Recordings cover the whole stretch.")
    gaps: list[Gap] = Field(description="Stretches with no recording (not yet recorded too).")


def _clip_out(session: Session, clip: IncidentClip, camera_code: str) -> ClipOut:
    found = incident_clips.coverage(session, clip.camera_id, clip.starts_at, clip.ends_at)
    return ClipOut(
        id=clip.id,
        incident_id=clip.incident_id,
        camera_id=clip.camera_id,
        camera_code=camera_code,
        start=clip.starts_at,
        end=clip.ends_at,
        note=clip.note,
        hold_id=clip.hold_id,
        linked_by=clip.linked_by,
        linked_at=clip.linked_at,
        linked=clip.unlinked_at is None,
        unlinked_by=clip.unlinked_by,
        unlinked_at=clip.unlinked_at,
        unlink_reason=clip.unlink_reason,
        playback_url=incident_clips.playback_url(clip),
        recorded=found.complete,
        gaps=[Gap(start=start, end=end) for start, end in found.gaps],
    )


_HoldPlacer = Annotated[User, Depends(require_role(*HOLD_PLACERS))]
_HoldReleaser = Annotated[User, Depends(require_role(*HOLD_RELEASERS))]


# The role is checked first (403), then the scope (404), as for MaterialsIncident.
def _linking_incident(
    incident_id: Id, session: DbSession, scope: CurrentScope, user: _HoldPlacer
) -> Incident:
    return visible_incident(session, scope, user, incident_id)


def _unlinking_incident(
    incident_id: Id, session: DbSession, scope: CurrentScope, user: _HoldReleaser
) -> Incident:
    return visible_incident(session, scope, user, incident_id)


LinkingIncident = Annotated[Incident, Depends(_linking_incident)]
UnlinkingIncident = Annotated[Incident, Depends(_unlinking_incident)]


@router.post(
    "/incidents/{incident_id}/clips", response_model=ClipOut, status_code=status.HTTP_201_CREATED
)
def link_clip(
    body: ClipIn,
    incident: LinkingIncident,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
) -> ClipOut:
    """Link a stretch of a camera's recordings (at most 24 h) and place a legal hold on it,
    so retention keeps it."""
    camera = visible_camera(session, scope, body.camera_id)
    try:
        clip = incident_clips.link_clip(
            session, incident, user, camera, body.start, body.end, body.note
        )
    except service.AttachmentError as exc:
        raise http_error(exc) from exc
    commit(session)
    out = _clip_out(session, clip, camera.code)
    announce(request, "incident_clip", incident, out)
    return out


@router.get("/incidents/{incident_id}/clips", response_model=list[ClipOut])
def list_clips(incident: MaterialsIncident, session: DbSession) -> list[ClipOut]:
    """Every clip ever linked, oldest first, with where it plays and whether recordings
    cover it."""
    return [
        _clip_out(session, clip, code) for clip, code in incident_clips.clips_of(session, incident)
    ]


@router.delete("/incidents/{incident_id}/clips/{clip_id}", response_model=ClipOut)
def unlink_clip(
    clip_id: Id,
    reason: Reason,
    incident: UnlinkingIncident,
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> ClipOut:
    """Unlink a clip and release its hold (while the incident is not closed), with a reason."""
    clip = incident_clips.find_clip(session, incident, clip_id)
    if clip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=CLIP_NOT_FOUND)
    try:
        incident_clips.unlink_clip(session, incident, clip, user, reason)
    except service.AttachmentError as exc:
        raise http_error(exc) from exc
    commit(session)
    out = _clip_out(session, clip, session.get_one(Camera, clip.camera_id).code)
    announce(request, "incident_clip", incident, out)
    return out
