"""Camera requests in the database: who sees which (in SQL), submitting with its number, and
the moves of the workflow, each with its audit row in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, select, true
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.auth.roles import Role, Scope
from safecity.city.models import Camera, Organization, Site
from safecity.core.clock import utcnow
from safecity.planning.requests.models import CameraRequest, RequestStatus
from safecity.planning.requests.rules import AskingOrganization, Draft, RequestSite
from safecity.planning.requests.workflow import (
    READERS,
    check_move,
    number_prefix,
    request_number,
)
from safecity.store.counters import next_value
from safecity.store.locks import lock_row


class RequestError(ValueError):
    """A request that cannot be met as given (answered 422)."""


@dataclass(frozen=True)
class Actor:
    """Who the audit log names: a signed-in user, or ``cli:<login>`` with no user id."""

    name: str
    user_id: int | None = None


def request_condition(role: Role, organization_id: int | None, scope: Scope) -> ColumnElement[bool]:
    """Requests a user may see: every one for the city-wide (admin, operator, analyst, the
    city akimat); otherwise their own organization's, in the districts they see (a duty
    officer: the police's requests in their unit's districts); none for other roles."""
    if role not in READERS:
        return false()
    if scope.city_wide:
        return true()
    if organization_id is None or not scope.district_ids:
        return false()
    return and_(
        CameraRequest.organization_id == organization_id,
        CameraRequest.district_id.in_(sorted(scope.district_ids)),
    )


def asking_organization(row: Organization) -> AskingOrganization:
    return AskingOrganization(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        district_id=row.district_id,
        city_wide=row.city_wide,
        active=row.active,
    )


def request_site(row: Site) -> RequestSite:
    return RequestSite(row.id, row.code, row.district_id, row.owner_organization_id)


def _next_number(session: Session, now: datetime) -> str:
    """The year's next number from its counter: the counter's row stays locked until this
    transaction ends, so two submitters never get the same one. A year's counter starts
    after the last number stored for that year."""
    prefix = number_prefix(now.year)

    def after_last_stored() -> int:
        last = session.scalar(
            select(func.max(CameraRequest.number)).where(CameraRequest.number.like(f"{prefix}%"))
        )
        return int(last.removeprefix(prefix)) + 1 if last else 1

    return request_number(
        now.year, next_value(session, f"request-number:{now.year}", first=after_last_stored)
    )


def _audited(draft: Draft) -> dict[str, object]:
    return {
        "organization_id": draft.organization_id,
        "district_id": draft.district_id,
        "latitude": draft.latitude,
        "longitude": draft.longitude,
        "address": draft.address,
        "site_id": draft.site_id,
        "urgency": draft.urgency.value,
        "justification": draft.justification,
    }


def store_request(
    session: Session, actor: Actor, draft: Draft, *, now: datetime | None = None
) -> CameraRequest:
    """Number and store a checked request, submitted now; audited."""
    now = now or utcnow()
    request = CameraRequest(
        number=_next_number(session, now),
        organization_id=draft.organization_id,
        district_id=draft.district_id,
        site_id=draft.site_id,
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        justification=draft.justification,
        urgency=draft.urgency,
        status=RequestStatus.SUBMITTED,
        submitted_by_id=actor.user_id,
        submitted_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    audit(
        session,
        action="camera_request.submit",
        actor=actor.name,
        actor_id=actor.user_id,
        target=f"camera_request:{request.number}",
        details=_audited(draft),
    )
    return request


def move(
    session: Session,
    request: CameraRequest,
    actor: Actor,
    name: str,
    *,
    reason: str | None = None,
    camera: Camera | None = None,
    now: datetime | None = None,
) -> CameraRequest:
    """Make the move ``name`` (review, approve, reject, install); raises the workflow's
    NotAllowed or ReasonRequired, or RequestError for a camera in another district.

    Two people deciding one request at once: the second waits on the row, then is judged
    against what the first committed (an approval after a rejection is refused)."""
    now = now or utcnow()
    lock_row(session, request)
    made = check_move(request.number, request.status, name, reason)
    details: dict[str, object] = {"from": request.status.value, "to": made.target.value}
    if made.name == "install":
        if camera is None:
            raise RequestError("camera: name the installed camera (camera_id or camera_code)")
        if camera.district_id != request.district_id:
            raise RequestError(
                f"camera: {camera.code} lies in another district than {request.number}"
            )
        request.camera_id = camera.id
        request.installed_at = now
        details["camera_id"] = camera.id
        details["camera_code"] = camera.code
    if made.target in (RequestStatus.APPROVED, RequestStatus.REJECTED):
        request.decision_reason = reason.strip() if reason and reason.strip() else None
        request.decided_at = now
        request.decided_by_id = actor.user_id
        details["reason"] = request.decision_reason
    request.status = made.target
    request.updated_at = now
    session.flush()
    audit(
        session,
        action=f"camera_request.{made.name}",
        actor=actor.name,
        actor_id=actor.user_id,
        target=f"camera_request:{request.number}",
        details=details,
    )
    return request
