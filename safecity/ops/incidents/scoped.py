"""The incident a request's path names, cut to what the caller may see: the incidents in
their scope, and for a duty officer their unit's (``service.incident_condition``). One
outside it answers 404 with the same words as one that does not exist. A role check declared
before the incident (on the route, or as an earlier parameter) runs first, so a role that may
not act gets 403 either way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentScope, CurrentUser, DbSession
from safecity.auth.models import User
from safecity.auth.roles import Scope
from safecity.bounds import Id
from safecity.ops.incidents.service import incident_condition
from safecity.ops.models import Incident

INCIDENT_NOT_FOUND = "no such incident, or not yours to see"


def visible_incident(session: Session, scope: Scope, user: User, incident_id: int) -> Incident:
    """The incident if ``user`` (with ``scope``) may see it; otherwise 404."""
    incident = session.scalars(
        select(Incident).where(Incident.id == incident_id, incident_condition(scope, user))
    ).first()
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=INCIDENT_NOT_FOUND)
    return incident


def scoped_incident(
    incident_id: Id, session: DbSession, scope: CurrentScope, user: CurrentUser
) -> Incident:
    return visible_incident(session, scope, user, incident_id)


ScopedIncident = Annotated[Incident, Depends(scoped_incident)]
"""The incident of the path's ``{incident_id}``, if the caller may see it (404 otherwise)."""
