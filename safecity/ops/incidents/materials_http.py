"""An incident's materials (attachments and linked clips) over HTTP: the steps their endpoints
share.

Scoped like the incident itself (out of scope = 404, as if missing), after the role (others
403). Every change is audited in its own transaction and, once committed, announced on the
live feed (``ops/feed/incident_attachment``, ``ops/feed/incident_clip``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentScope, DbSession, require_role
from safecity.auth.models import User
from safecity.bounds import Id, Paragraph
from safecity.ops.incidents import attachments as service
from safecity.ops.incidents.scoped import visible_incident
from safecity.ops.models import Incident
from safecity.video.recording.holds import MAX_REASON_LENGTH

_OccOrOfficer = Annotated[User, Depends(require_role(*service.ATTACHMENT_USERS))]


# The role is checked first (403), then the scope (404), like the rest of the ops API.
def _materials_incident(
    incident_id: Id, session: DbSession, scope: CurrentScope, user: _OccOrOfficer
) -> Incident:
    return visible_incident(session, scope, user, incident_id)


MaterialsIncident = Annotated[Incident, Depends(_materials_incident)]
"""The path's incident, for the OCC and the duty officer of the assigned unit."""
Reason = Annotated[Paragraph, Query(min_length=1, max_length=MAX_REASON_LENGTH, description="Why.")]

_ERROR_STATUS: dict[type[service.AttachmentError], int] = {
    service.TooLarge: status.HTTP_413_CONTENT_TOO_LARGE,
    service.UnsupportedType: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    service.StoreFull: status.HTTP_507_INSUFFICIENT_STORAGE,
    service.NotAllowed: status.HTTP_403_FORBIDDEN,
    service.Conflict: status.HTTP_409_CONFLICT,
}


def http_error(exc: service.AttachmentError) -> HTTPException:
    code = next(
        (code for kind, code in _ERROR_STATUS.items() if isinstance(exc, kind)),
        status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
    return HTTPException(code, detail=str(exc))


def commit(session: Session, undo: Callable[[], None] | None = None) -> None:
    """Commit now, so the change is durable before it is announced; ``undo`` removes what
    was written outside the database if the commit fails."""
    try:
        session.commit()
    except BaseException:
        if undo is not None:
            undo()
        raise


def announce(request: Request, event: str, incident: Incident, item: BaseModel) -> None:
    bus = getattr(request.app.state, "bus", None)
    if bus is None:
        return
    bus.publish(
        f"ops/feed/{event}",
        {
            **item.model_dump(mode="json"),
            "incident_number": incident.number,
            "district_id": incident.district_id,
            "police_unit_id": incident.police_unit_id,
        },
    )
