"""Legal holds: stretches of a camera's recordings that retention must keep until released.

An incident, an evidence export or a person asking for it pins a camera's recordings between
two moments; retention (``safecity.video.recording.retention``) never deletes a segment that overlaps an
active hold, whatever its age, quota or the state of the disk. Releasing is explicit and
recorded (who, when), and a hold is never deleted: the table is the audit trail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, aliased

from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.city.models import Camera
from safecity.core.clock import utcnow
from safecity.video.models import HoldKind, LegalHold

log = logging.getLogger(__name__)

HOLD_READERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.POLICE_DUTY_OFFICER})
"""Who sees holds (in their scope). A hold names an incident or a case, which the roles that
only watch their sites or the city's figures have no need to read."""
HOLD_PLACERS = HOLD_READERS
"""The OCC and the police place holds: they are the ones who learn that footage matters."""
HOLD_RELEASERS = frozenset({Role.ADMIN, Role.OPERATOR})
"""Releasing lets retention delete evidence, so it stays with the city-wide roles that answer
for the archive, not with whoever placed the hold."""

MAX_REASON_LENGTH = 2000
MAX_REFERENCE_LENGTH = 100


class HoldError(ValueError):
    """A hold request that breaks a rule; the message says which, in words a user can act on."""


class HoldNotFound(LookupError):
    pass


class HoldAlreadyReleased(HoldError):
    pass


@dataclass(frozen=True)
class HoldRecord:
    """A hold as people read it: with its camera's code and the names of who placed and who
    released it."""

    id: int
    camera_id: int
    camera_code: str
    starts_at: datetime
    ends_at: datetime
    kind: HoldKind
    reason: str
    reference: str | None
    placed_by: str | None
    placed_at: datetime
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None


def _clean_reason(reason: str, missing: str) -> str:
    reason = reason.strip()
    if not reason:
        raise HoldError(f"{missing} (the reason is required)")
    if len(reason) > MAX_REASON_LENGTH:
        raise HoldError(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    return reason


def place_hold(
    session: Session,
    *,
    camera_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    reference: str | None = None,
    kind: HoldKind = HoldKind.MANUAL,
    placed_by: User | None = None,
) -> LegalHold:
    """Pin the camera's recordings from ``starts_at`` to ``ends_at``. ``placed_by`` is None
    when the system places it (an incident or an export acting on its own).

    Raises HoldError when the camera does not exist, the times are not aware or do not make a
    stretch (the end must come after the start), or the reason is empty or too long.
    """
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise HoldError("start and end need a time zone (e.g. 2026-11-27T14:00:00+05:00)")
    if ends_at <= starts_at:
        raise HoldError("the end of a hold must come after its start")
    reason = _clean_reason(reason, "say why the recordings must be kept")
    reference = (reference or "").strip() or None
    if reference is not None and len(reference) > MAX_REFERENCE_LENGTH:
        raise HoldError(f"the reference is longer than {MAX_REFERENCE_LENGTH} characters")
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise HoldError(f"no camera with id {camera_id}")
    hold = LegalHold(
        camera_id=camera_id,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=kind,
        reason=reason,
        reference=reference,
        created_by_id=placed_by.id if placed_by else None,
        created_at=utcnow(),
    )
    session.add(hold)
    session.flush()
    log.info(
        "legal hold %d placed on camera %s, %s to %s, by %s: %s",
        hold.id,
        camera.code,
        starts_at.isoformat(),
        ends_at.isoformat(),
        placed_by.username if placed_by else "the system",
        reason,
    )
    return hold


def release_hold(
    session: Session, hold_id: int, *, released_by: User | None, reason: str
) -> HoldRecord:
    """Let retention treat the hold's recordings like any others again, saying why.

    One conditional UPDATE, so that of two people releasing at once exactly one succeeds.
    Raises HoldError for a missing reason, HoldNotFound, or HoldAlreadyReleased saying when
    and by whom.
    """
    reason = _clean_reason(reason, "say why the recordings may be deleted")
    released = session.scalar(
        update(LegalHold)
        .where(LegalHold.id == hold_id, LegalHold.released_at.is_(None))
        .values(
            released_at=utcnow(),
            released_by_id=released_by.id if released_by else None,
            release_reason=reason,
        )
        .returning(LegalHold.id)
        .execution_options(synchronize_session=False)
    )
    record = get_hold(session, hold_id)
    if released is None:
        by = f" by {record.released_by}" if record.released_by else ""
        when = record.released_at.isoformat() if record.released_at else "an earlier time"
        raise HoldAlreadyReleased(f"hold {hold_id} was already released at {when}{by}")
    log.info(
        "legal hold %d on camera %s released by %s: %s",
        record.id,
        record.camera_code,
        released_by.username if released_by else "the system",
        reason,
    )
    return record


def list_holds(
    session: Session,
    *,
    camera_id: int | None = None,
    active_only: bool = False,
    limit: int | None = None,
) -> list[HoldRecord]:
    """Holds by camera code, the latest stretch first; one camera's or the whole city's."""
    query = _records()
    if camera_id is not None:
        query = query.where(LegalHold.camera_id == camera_id)
    if active_only:
        query = query.where(LegalHold.released_at.is_(None))
    query = query.order_by(Camera.code, LegalHold.starts_at.desc(), LegalHold.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_record(row) for row in session.execute(query)]


def get_hold(session: Session, hold_id: int) -> HoldRecord:
    """Raises HoldNotFound. Read afresh, so that a release just written shows."""
    query = _records().where(LegalHold.id == hold_id).execution_options(populate_existing=True)
    row = session.execute(query).one_or_none()
    if row is None:
        raise HoldNotFound(f"no hold with id {hold_id}")
    return _record(row)


_PlacedBy = aliased(User)
_ReleasedBy = aliased(User)


def _records() -> Select[LegalHold, str, str | None, str | None]:
    return (
        select(LegalHold, Camera.code, _PlacedBy.username, _ReleasedBy.username)
        .join(Camera, Camera.id == LegalHold.camera_id)
        .outerjoin(_PlacedBy, _PlacedBy.id == LegalHold.created_by_id)
        .outerjoin(_ReleasedBy, _ReleasedBy.id == LegalHold.released_by_id)
    )


def _record(row: tuple[LegalHold, str, str | None, str | None]) -> HoldRecord:
    hold, camera_code, placed_by, released_by = row
    return HoldRecord(
        id=hold.id,
        camera_id=hold.camera_id,
        camera_code=camera_code,
        starts_at=hold.starts_at,
        ends_at=hold.ends_at,
        kind=hold.kind,
        reason=hold.reason,
        reference=hold.reference,
        placed_by=placed_by,
        placed_at=hold.created_at,
        released_at=hold.released_at,
        released_by=released_by,
        release_reason=hold.release_reason,
    )
