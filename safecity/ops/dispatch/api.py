"""The notifications outbox for admins: what is waiting, what failed, and sending again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel
from sqlalchemy import select

from safecity.api.deps import CurrentUser, DbSession, require_role
from safecity.auth.roles import Role
from safecity.bounds import Id, Line
from safecity.ops.dispatch.models import Notification, NotificationChannel, NotificationState
from safecity.ops.dispatch.outbox import NotificationError, retry_now

router = APIRouter(
    prefix="/api/notifications",
    tags=["operations"],
    dependencies=[Depends(require_role(Role.ADMIN))],
)

NOT_FOUND = "no such notification"


class NotificationOut(BaseModel):
    id: int
    incident_id: int
    event_id: int | None
    police_unit_code: str
    channel: NotificationChannel
    target: str
    state: NotificationState
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    give_up_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    session: DbSession,
    state: Annotated[list[NotificationState] | None, Query()] = None,
    incident_id: Id | None = None,
    unit: Annotated[Line | None, Query(max_length=64, description="Police unit code.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationOut]:
    """Notices, newest first: ``?state=pending`` shows what is waiting (``attempts`` and
    ``last_error`` say why), ``?state=failed`` what will not be sent unless retried."""
    query = select(Notification)
    if state:
        query = query.where(Notification.state.in_(state))
    if incident_id is not None:
        query = query.where(Notification.incident_id == incident_id)
    if unit is not None:
        query = query.where(Notification.police_unit_code == unit)
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return [NotificationOut.model_validate(n, from_attributes=True) for n in session.scalars(query)]


@router.post("/{notification_id}/retry", response_model=NotificationOut)
def retry_notification(
    notification_id: Id, request: Request, session: DbSession, user: CurrentUser
) -> NotificationOut:
    """Send a failed (or waiting) notice again now, with a fresh give-up period; 409 when it
    was delivered already."""
    notice = session.get(Notification, notification_id)
    if notice is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    hours = request.app.state.settings.ops.notifications.give_up_hours
    try:
        retry_now(
            session,
            notice,
            actor=user.username,
            actor_id=user.id,
            give_up_after=timedelta(hours=hours),
        )
    except NotificationError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return NotificationOut.model_validate(notice, from_attributes=True)
