"""The analytics event a request's path names, cut to the caller's scope: one of a camera
outside it answers 404 with the same words as one that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status

from safecity.analytics.event_store import visible_event
from safecity.analytics.models import AnalyticsEvent
from safecity.api.deps import CurrentScope, DbSession
from safecity.bounds import Id

EVENT_NOT_FOUND = "no such event, or not yours to see"


def scoped_event(event_id: Id, session: DbSession, scope: CurrentScope) -> AnalyticsEvent:
    event = visible_event(session, scope, event_id)
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=EVENT_NOT_FOUND)
    return event


ScopedEvent = Annotated[AnalyticsEvent, Depends(scoped_event)]
"""The event of the path's ``{event_id}``, if the caller may see its camera (404 otherwise)."""
