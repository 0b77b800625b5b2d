"""``GET /api/ops/feed``: the OCC's alerts and incidents pushed live as Server-Sent Events.

The console opens one ``EventSource`` per page. Events: ``hello`` (on connect), ``alert`` and
``incident`` (the same JSON as the list endpoints' items, converted here from the domain events
of ``safecity/ops/events.py``; also sent when a note, SOP step or escalation is added),
``incident_gone`` (``{"id"}``: no longer yours, e.g. handed to another unit), any other event
published on ``ops/feed/<event>`` (escalations, attachments), ``resync`` (refetch your lists: you reconnected too late or fell behind) and
``signed_out`` (the session ended; the stream closes). Every 15 s of silence a comment keeps
proxies from closing the connection, and every 30 s the session is checked again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from safecity.api.deps import CurrentScope, CurrentUser, request_token
from safecity.auth.roles import Role
from safecity.auth.sessions import user_for_token
from safecity.bus import Message
from safecity.ops.alerts.schemas import AlertOut, thumbnail_url
from safecity.ops.events import AlertChanged, IncidentChanged
from safecity.ops.feed.changes import Audience, FeedHub, FeedItem, console_message
from safecity.ops.incidents.attachments import ATTACHMENT_USERS
from safecity.ops.incidents.lifecycle import allowed_targets
from safecity.ops.incidents.schemas import IncidentOut
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


def feed_item(message: Message) -> FeedItem | None:
    """What consoles get of a bus message: alerts and incidents as the list endpoints give
    them, converted here from their domain events; what was published for the consoles on
    ``ops/feed/<event>`` as it is."""
    if message.topic == AlertChanged.topic:
        alert = AlertChanged.from_envelope(message.payload)
        # ``merged`` tells the caller of POST /api/alerts its alert was folded; never here.
        shown_alert = AlertOut.model_validate(
            {**dict(alert), "merged": False, "thumbnail_url": thumbnail_url(alert.details)}
        )
        return FeedItem("alert", shown_alert.model_dump(mode="json"))
    if message.topic == IncidentChanged.topic:
        incident = IncidentChanged.from_envelope(message.payload)
        shown = IncidentOut.model_validate(
            {**dict(incident), "allowed": allowed_targets(incident.status)}
        )
        was = incident.moved_from.model_dump() if incident.moved_from is not None else None
        return FeedItem("incident", shown.model_dump(mode="json"), was)
    return console_message(message)


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
