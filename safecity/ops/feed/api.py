"""``GET /api/ops/feed``: the OCC's alerts and incidents pushed live as Server-Sent Events.

The console opens one ``EventSource`` per page. Events: ``hello`` (on connect), ``alert`` and
``incident`` (the same JSON as the list endpoints' items; also sent when a note, SOP step or
escalation is added), ``incident_gone`` (``{"id"}``: no
longer yours, e.g. handed to another unit), any other event published on ``ops/feed/<event>``
(escalations), ``resync`` (refetch your lists: you reconnected too late or fell behind) and
``signed_out`` (the session ended; the stream closes). Every 15 s of silence a comment keeps
proxies from closing the connection, and every 30 s the session is checked again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import inspect
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from safecity.api.deps import CurrentScope, CurrentUser, request_token
from safecity.auth.roles import Role
from safecity.auth.sessions import user_for_token
from safecity.ops.alerts.schemas import alert_out
from safecity.ops.feed.changes import SCOPE_KEYS, Audience, FeedHub, FeedItem
from safecity.ops.incidents.attachments import ATTACHMENT_USERS
from safecity.ops.incidents.schemas import incident_out
from safecity.ops.models import Alert, Incident, IncidentEvent
from safecity.store.engine import Database

router = APIRouter(prefix="/api/ops", tags=["operations"])

EVENT_READERS: dict[str, frozenset[Role]] = {
    "escalation": frozenset({Role.OPERATOR, Role.ADMIN}),
    "incident_attachment": ATTACHMENT_USERS,
    "incident_clip": ATTACHMENT_USERS,
}
"""Who may receive each event beyond alerts and incidents: the roles its API serves."""

KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 30.0


def describe(_session: Session, obj: object) -> FeedItem | None:
    """The feed item of a flushed alert or incident (the ``ChangePublisher`` callback)."""
    if isinstance(obj, Alert):
        return FeedItem("alert", alert_out(obj).model_dump(mode="json"))
    if isinstance(obj, Incident):
        return FeedItem("incident", incident_out(obj).model_dump(mode="json"))
    if isinstance(obj, IncidentEvent):
        # A note, an SOP step or an escalation changes what the incident page shows, though
        # not the incident row: consoles get the incident again and refetch its details.
        return FeedItem("incident", incident_out(obj.incident).model_dump(mode="json"))
    return None


def previous_keys(obj: object) -> dict[str, int | None] | None:
    """An incident's district and unit before the flush, when either changed."""
    if not isinstance(obj, Incident):
        return None
    state = inspect(obj)
    was: dict[str, int | None] = {}
    changed = False
    for key in SCOPE_KEYS:
        history = state.attrs[key].history
        if history.deleted and history.deleted[0] is not None:
            was[key] = history.deleted[0]
            changed = True
        else:
            was[key] = getattr(obj, key)
    return was if changed else None


def _still_signed_in(database: Database, token: str) -> bool:
    with database.session() as session:
        return user_for_token(session, token) is not None


@router.get(
    "/feed",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def ops_feed(
    request: Request,
    user: CurrentUser,
    scope: CurrentScope,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """The live feed of alerts and incidents the caller may see (Server-Sent Events)."""
    hub: FeedHub = request.app.state.feed
    database: Database = request.app.state.database
    token = request_token(request) or ""
    audience = Audience(
        city_wide=scope.city_wide,
        district_ids=scope.district_ids,
        police_unit_id=user.police_unit_id if user.role is Role.POLICE_DUTY_OFFICER else None,
        events=frozenset(name for name, roles in EVENT_READERS.items() if user.role in roles),
    )
    client = hub.connect(audience, last_event_id)

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        checked = loop.time()
        try:
            yield "retry: 2000\n" + hub.hello()
            while True:
                try:
                    first = await asyncio.wait_for(client.queue.get(), KEEPALIVE_SECONDS)
                    frame = client.take_ready(first)
                except TimeoutError:
                    frame = ": keepalive\n\n"
                client.next_frame_taken()
                if loop.time() - checked >= RECHECK_SECONDS:
                    checked = loop.time()
                    if not await run_in_threadpool(_still_signed_in, database, token):
                        yield 'event: signed_out\ndata: {"detail": "sign in again"}\n\n'
                        return
                yield frame
        finally:
            hub.disconnect(client)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
