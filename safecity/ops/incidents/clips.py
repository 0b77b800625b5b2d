"""Clips linked to an incident: stretches of a camera's recordings that the incident refers to.

Linking places a legal hold on that camera and stretch (kind ``incident``, reason
"incident <number>"), so retention keeps the video whatever its age or the state of the disk.
Unlinking releases that hold, with a reason. Closing the incident keeps its holds: the case may
outlive the incident, and an administrator releases them through the holds API when it ends.
A link is never deleted; unlinking stamps who, when and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.city.models import Camera
from safecity.core.clock import utcnow
from safecity.ops.incidents.attachment_models import IncidentClip
from safecity.ops.incidents.attachments import (
    AttachmentError,
    Conflict,
    clean_reason,
    evidence_event,
)
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident
from safecity.video.models import HoldKind
from safecity.video.playback.clips import GAP_TOLERANCE, ClipError, check_range, segments_in_range
from safecity.video.playback.clips import recording_gaps as gaps_between
from safecity.video.recording.holds import (
    HoldAlreadyReleased,
    HoldError,
    place_hold,
    release_hold,
)

MAX_NOTE_LENGTH = 2000


class ClipLinkError(AttachmentError):
    """A link request that cannot be met as given (answered 422)."""


@dataclass(frozen=True)
class Coverage:
    """How much of a stretch is recorded: the holes, from its start to its end."""

    gaps: tuple[tuple[datetime, datetime], ...]

    @property
    def complete(self) -> bool:
        return not self.gaps


def coverage(session: Session, camera_id: int, start: datetime, end: datetime) -> Coverage:
    """The holes in the camera's recordings between ``start`` and ``end``, those before the
    first and after the last segment included (video not yet recorded is a hole too)."""
    segments = segments_in_range(session, camera_id, start, end)
    if not segments:
        return Coverage(((start, end),))
    holes = []
    if segments[0].started_at - start > GAP_TOLERANCE:
        holes.append((start, segments[0].started_at))
    holes.extend(gaps_between(segments))
    last = max(segment.ended_at for segment in segments)
    if end - last > GAP_TOLERANCE:
        holes.append((last, end))
    return Coverage(tuple(holes))


def playback_url(clip: IncidentClip) -> str:
    """Where the stretch plays (``GET /api/cameras/{id}/clip.mp4``, scoped like the camera)."""
    query = urlencode({"start": clip.starts_at.isoformat(), "end": clip.ends_at.isoformat()})
    return f"/api/cameras/{clip.camera_id}/clip.mp4?{query}"


def link_clip(
    session: Session,
    incident: Incident,
    actor: User,
    camera: Camera,
    start: datetime,
    end: datetime,
    note: str | None = None,
) -> IncidentClip:
    """Link the camera's recordings from ``start`` to ``end`` and hold them.

    Raises ClipLinkError for a range a clip cannot have (no time zone, backwards, longer than
    a clip may be) or a note too long, and Conflict when the same stretch is already linked.
    """
    try:
        check_range(start, end)
    except ClipError as exc:
        raise ClipLinkError(str(exc)) from exc
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise ClipLinkError(f"the note is longer than {MAX_NOTE_LENGTH} characters")
    same = session.scalar(
        select(IncidentClip.id).where(
            IncidentClip.incident_id == incident.id,
            IncidentClip.camera_id == camera.id,
            IncidentClip.starts_at == start,
            IncidentClip.ends_at == end,
            IncidentClip.unlinked_at.is_(None),
        )
    )
    if same is not None:
        raise Conflict(f"this stretch of camera {camera.code} is already linked (clip {same})")
    reason = f"incident {incident.number}"
    try:
        hold = place_hold(
            session,
            camera_id=camera.id,
            starts_at=start,
            ends_at=end,
            reason=reason,
            reference=incident.number,
            kind=HoldKind.INCIDENT,
            placed_by=actor,
        )
    except HoldError as exc:
        raise ClipLinkError(str(exc)) from exc
    now = utcnow()
    clip = IncidentClip(
        incident_id=incident.id,
        camera_id=camera.id,
        starts_at=start,
        ends_at=end,
        note=note,
        hold_id=hold.id,
        linked_by_id=actor.id,
        linked_by=actor.username,
        linked_at=now,
    )
    session.add(clip)
    session.flush()
    facts = _facts(clip, camera.code)
    evidence_event(session, incident, actor, at=now, change="clip_linked", text=note, details=facts)
    audit(
        session,
        action="hold.place",
        actor=actor.username,
        actor_id=actor.id,
        target=f"hold:{hold.id}",
        details={
            "camera_id": camera.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reason": reason,
            "reference": incident.number,
        },
    )
    audit(
        session,
        action="incident.clip.link",
        actor=actor.username,
        actor_id=actor.id,
        target=f"incident:{incident.number}",
        details=facts,
    )
    return clip


def clips_of(session: Session, incident: Incident) -> list[tuple[IncidentClip, str]]:
    """Every clip the incident ever linked (unlinked ones included) with its camera's code."""
    rows = session.execute(
        select(IncidentClip, Camera.code)
        .join(Camera, Camera.id == IncidentClip.camera_id)
        .where(IncidentClip.incident_id == incident.id)
        .order_by(IncidentClip.id)
    )
    return [(clip, code) for clip, code in rows]


def find_clip(session: Session, incident: Incident, clip_id: int) -> IncidentClip | None:
    return session.scalar(
        select(IncidentClip).where(
            IncidentClip.id == clip_id, IncidentClip.incident_id == incident.id
        )
    )


def unlink_clip(
    session: Session, incident: Incident, clip: IncidentClip, actor: User, reason: str | None
) -> IncidentClip:
    """Unlink the clip and release its hold (unless someone already released it through the
    holds API). Only while the incident is not closed, with a reason.

    One conditional UPDATE, so that of two people unlinking at once exactly one succeeds.
    """
    if incident.status is IncidentStatus.CLOSED:
        raise Conflict(
            f"incident {incident.number} is closed; its clips stay linked (an administrator "
            "releases their holds through the holds API)"
        )
    reason = clean_reason(
        reason, missing="say why the clip is unlinked (the reason is required)", error=ClipLinkError
    )
    now = utcnow()
    done = session.scalar(
        update(IncidentClip)
        .where(IncidentClip.id == clip.id, IncidentClip.unlinked_at.is_(None))
        .values(
            unlinked_at=now,
            unlinked_by_id=actor.id,
            unlinked_by=actor.username,
            unlink_reason=reason,
        )
        .returning(IncidentClip.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(clip)
    if done is None:
        when = clip.unlinked_at.isoformat() if clip.unlinked_at else "an earlier time"
        raise Conflict(f"clip {clip.id} was already unlinked by {clip.unlinked_by} at {when}")
    try:
        release_hold(session, clip.hold_id, released_by=actor, reason=reason)
        released_now = True
    except HoldAlreadyReleased:
        released_now = False
    if released_now:
        audit(
            session,
            action="hold.release",
            actor=actor.username,
            actor_id=actor.id,
            target=f"hold:{clip.hold_id}",
            details={"camera_id": clip.camera_id, "reason": reason},
        )
    code = session.get_one(Camera, clip.camera_id).code
    facts = {**_facts(clip, code), "hold_released": released_now}
    evidence_event(
        session, incident, actor, at=now, change="clip_unlinked", text=reason, details=facts
    )
    audit(
        session,
        action="incident.clip.unlink",
        actor=actor.username,
        actor_id=actor.id,
        target=f"incident:{incident.number}",
        details={**facts, "reason": reason},
    )
    return clip


def _facts(clip: IncidentClip, camera_code: str) -> dict[str, object]:
    return {
        "clip_id": clip.id,
        "camera_id": clip.camera_id,
        "camera_code": camera_code,
        "start": clip.starts_at.isoformat(),
        "end": clip.ends_at.isoformat(),
        "hold_id": clip.hold_id,
    }
