"""Live view over a WebSocket: a camera's fragmented MP4, straight from its live feed.

``/api/cameras/{camera_id}/live`` speaks this protocol, server to browser:

- ``{"type": "init", "codec": "avc1.64001f", "width": 1920, "height": 1080}`` (text), then the
  init segment (binary): create a SourceBuffer for ``video/mp4; codecs="<codec>"`` and append it;
- binary messages: one ``moof+mdat`` fragment per frame, starting at a keyframe;
- ``{"type": "offline"}``: the camera's connection dropped; the socket stays open;
- ``{"type": "reset"}``: the stream starts over (the camera reconnected, maybe at another
  resolution): drop the SourceBuffer; an ``init`` and its segment follow;
- with ``?timing=1`` only, ``{"type": "t", "pts": 12.4, "arrived": 1767225600.123}`` before each
  fragment: its presentation time in seconds and the wall-clock time its packet reached the
  server, so a client can measure glass-to-glass delay against its own clock.

A WebSocket cannot carry the HTTP dependencies, so the session is resolved here with the same
functions: the ``safecity_session`` cookie (what a browser sends) or a bearer token, then the
caller's scope. Close codes (the reason says the same in words): 4401 not signed in (or the
session ended while watching), 4403 opened from another site's page, 4404 no such camera or
not yours to see (the same for both, as the HTTP API's 404), 4408 the viewer fell too far
behind and was dropped (reconnect to continue from the live edge), 4503 this server has no
live stream of the camera (it does not ingest it; another source may have snapshots).
"""

from __future__ import annotations

import asyncio
import functools

from fastapi import APIRouter, WebSocket
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.websockets import WebSocketDisconnect, WebSocketState

from safecity.api.deps import SESSION_COOKIE
from safecity.api.origin import from_another_page, trusted_origins
from safecity.api.scoped import NOT_FOUND
from safecity.audit.log import record
from safecity.auth.roles import LIVE_VIEWERS
from safecity.auth.scope import camera_condition, resolve_scope
from safecity.auth.sessions import user_for_token
from safecity.bounds import Id
from safecity.city.models import Camera
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.live.feed import Fragment, InitSegment, LiveFeeds, Viewer, ViewerDropped

router = APIRouter(prefix="/api", tags=["live"])

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
"""A page of another site, or a role that may not watch live video."""
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_NO_SOURCE = 4503
RECHECK_SECONDS = 60.0
"""How often an open live view checks that its session and the camera's scope still hold, so a
sign-out, a revoked session or a camera moved out of scope ends the stream too."""

Close = tuple[int, str]


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.close: Close = (code, reason)


def _token(websocket: WebSocket) -> str | None:
    """As ``deps.request_token``: a bearer token (API clients), else the session cookie."""
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return websocket.cookies.get(SESSION_COOKIE)


def _same_site_page(websocket: WebSocket) -> bool:
    """Browsers send cookies on cross-origin WebSocket handshakes, so a page elsewhere could
    watch with an operator's session; they also always send Origin, which must be this host
    or one of api.trusted_origins. Clients without Origin are not browsers and bring their own
    credentials."""
    settings: Settings = websocket.app.state.settings
    trusted = trusted_origins(settings.api.trusted_origins)
    return not from_another_page(Headers(scope=websocket.scope), trusted)


def visible_camera_code(
    database: Database, token: str | None, camera_id: int, *, viewer_address: str | None = None
) -> str:
    """The code of the camera, if the token's user may see it; raises ``Refused`` otherwise.
    With ``viewer_address`` (the first check of a connection) the view is audited."""
    with database.session() as session:
        user = user_for_token(session, token) if token else None
        if user is None:
            raise Refused(CLOSE_UNAUTHORIZED, "sign in first")
        if user.role not in LIVE_VIEWERS:
            raise Refused(CLOSE_FORBIDDEN, "your role may not watch live video")
        scope = resolve_scope(session, user)
        code = session.scalar(
            select(Camera.code).where(Camera.id == camera_id, camera_condition(scope))
        )
        if code is not None and viewer_address is not None:
            record(
                session,
                action="video.live",
                actor=user.username,
                actor_id=user.id,
                target=f"camera:{camera_id}",
                details={"camera": code},
                address=viewer_address,
            )
    if code is None:
        raise Refused(CLOSE_NOT_FOUND, NOT_FOUND)
    return code


@router.websocket("/cameras/{camera_id}/live")
async def live_view(websocket: WebSocket, camera_id: Id, timing: bool = False) -> None:
    # Accept first: a refusal before accepting reaches the browser as a bare 403 handshake
    # failure, without the close code that tells the console what to show.
    await websocket.accept()
    database: Database = websocket.app.state.database
    token = _token(websocket)
    try:
        if not _same_site_page(websocket):
            raise Refused(CLOSE_FORBIDDEN, "live view is only served to this server's pages")
        address = websocket.client.host if websocket.client else None
        code = await run_in_threadpool(
            functools.partial(visible_camera_code, viewer_address=address or "unknown"),
            database,
            token,
            camera_id,
        )
    except Refused as refused:
        await websocket.close(*refused.close)
        return
    feeds: LiveFeeds | None = websocket.app.state.live
    feed = feeds.live_feed(code) if feeds is not None else None
    if feed is None:
        await websocket.close(CLOSE_NO_SOURCE, "no live stream of this camera on this server")
        return

    async def still_allowed() -> Close:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            try:
                await run_in_threadpool(visible_camera_code, database, token, camera_id)
            except Refused as refused:
                return refused.close

    with feed.subscribe() as viewer:
        tasks = [
            asyncio.create_task(_send_events(websocket, viewer, timing=timing)),
            asyncio.create_task(_until_disconnect(websocket)),
            asyncio.create_task(still_allowed()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            # wait, not gather: gather would re-raise the tasks' own cancellations, which the
            # server's cancel scope does not recognise as the one it sent this endpoint.
            await asyncio.wait(tasks)
    close = next(iter(done)).result()
    if close is not None and websocket.client_state is WebSocketState.CONNECTED:
        await websocket.close(*close)


async def _send_events(websocket: WebSocket, viewer: Viewer, *, timing: bool) -> Close | None:
    """Relay the viewer's events; what to close with when the feed drops the viewer, None when
    the client went away."""
    initialised = False
    try:
        async for event in viewer:
            if isinstance(event, Fragment):
                if timing:
                    await websocket.send_json(
                        {"type": "t", "pts": event.pts, "arrived": event.arrived}
                    )
                await websocket.send_bytes(event.data)
            elif isinstance(event, InitSegment):
                if initialised:
                    await websocket.send_json({"type": "reset"})
                initialised = True
                await websocket.send_json(
                    {
                        "type": "init",
                        "codec": event.codec,
                        "width": event.width,
                        "height": event.height,
                    }
                )
                await websocket.send_bytes(event.data)
            else:
                await websocket.send_json({"type": "offline"})
    except ViewerDropped as dropped:
        return CLOSE_TOO_SLOW, dropped.reason
    except WebSocketDisconnect:
        return None
    return None  # the viewer was closed: the endpoint is ending anyway


async def _until_disconnect(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a closed tab is noticed at once, even while
    the camera sends nothing."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
