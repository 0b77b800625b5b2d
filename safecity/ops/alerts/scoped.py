"""The alert a request names, cut to the caller's scope: one outside it answers 404 with the
same words as one that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentScope, DbSession
from safecity.auth.roles import Scope
from safecity.bounds import Id
from safecity.ops.alerts.intake import alert_condition
from safecity.ops.models import Alert

ALERT_NOT_FOUND = "no such alert, or not yours to see"


def visible_alert(session: Session, scope: Scope, alert_id: int) -> Alert:
    """The alert if the scope sees it; otherwise 404."""
    alert = session.scalars(
        select(Alert).where(Alert.id == alert_id, alert_condition(scope))
    ).first()
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=ALERT_NOT_FOUND)
    return alert


def scoped_alert(alert_id: Id, session: DbSession, scope: CurrentScope) -> Alert:
    return visible_alert(session, scope, alert_id)


ScopedAlert = Annotated[Alert, Depends(scoped_alert)]
"""The alert of the path's ``{alert_id}``, if the caller may see it (404 otherwise)."""
