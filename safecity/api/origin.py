"""Cross-site request forgery: a page on another origin must not make a signed-in browser
change anything here.

The session cookie is SameSite=Strict, which stops other sites, but not a page on the same
site: another port of this host, or a sibling subdomain (``cams.city.kz`` next to
``occ.city.kz``). Browsers say where a request comes from in ``Sec-Fetch-Site`` (all current
ones) and ``Origin`` (on every cross-origin POST since 2020), and a page cannot forge either.
So, as Go's ``net/http.CrossOriginProtection`` does, a state-changing request is refused when:

- ``Sec-Fetch-Site`` is present and not ``same-origin`` or ``none`` (typed in, a bookmark), or
- it is absent, and ``Origin`` is present and its host is not the host the request was sent to.

Requests with neither header come from programs, not browsers (curl, the analytics boxes, a
webhook sender, police systems with a bearer token): no cookie rides along unasked, so there
is nothing to forge. Origins listed in ``api.trusted_origins`` (a console served from another
host) pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSED = "cross-origin request refused: changes are accepted from this server's own pages only"


def trusted_origins(origins: Iterable[str]) -> frozenset[str]:
    """``api.trusted_origins`` as compared: lower case, no trailing slash."""
    return frozenset(origin.rstrip("/").lower() for origin in origins)


def foreign_page(headers: Headers, trusted: frozenset[str]) -> bool:
    """Whether ``Origin`` names a page of another host that is not trusted. No ``Origin``: not
    a browser page."""
    origin = headers.get("origin")
    if origin is None or origin.rstrip("/").lower() in trusted:
        return False
    host = headers.get("host", "").lower()
    return not host or urlsplit(origin).netloc.lower() != host


def from_another_page(headers: Headers, trusted: frozenset[str]) -> bool:
    """Whether a browser sent this request from a page of another origin that is not trusted:
    the browser's own ``Sec-Fetch-Site`` first (right even behind a proxy that rewrites
    ``Host``), else ``Origin`` against ``Host``."""
    origin = headers.get("origin")
    if origin is not None and origin.rstrip("/").lower() in trusted:
        return False
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    return foreign_page(headers, trusted)


def cross_origin_refusal(method: str, headers: Headers, trusted: frozenset[str]) -> str | None:
    """Why this request must be refused as cross-origin, or None when it may go on."""
    if method in SAFE_METHODS or not from_another_page(headers, trusted):
        return None
    return REFUSED


class CrossOriginGuard:
    """Answers 403 to a state-changing request a browser sent from another origin."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = trusted_origins(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            refusal = cross_origin_refusal(scope["method"], Headers(scope=scope), self.trusted)
            if refusal is not None:
                await JSONResponse({"detail": refusal}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
