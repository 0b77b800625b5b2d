"""Security headers and request timing for every HTTP answer, as plain ASGI middleware.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: that one relays each response
through a task group and a memory stream, a cost paid per chunk, and the live feed's streams
send a chunk per event to every console."""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_SECONDS = Histogram(
    "safecity_http_request_seconds", "Time to answer an HTTP request", ["method", "route", "status"]
)

# The console loads nothing from outside: scripts, styles and images come from this server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)

SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


class SecurityHeadersAndMetrics:
    """Adds the security headers an answer does not set itself, and times each request to
    its first byte (``safecity_http_request_seconds`` by method, route and status)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")  # set by the router on this same scope
                REQUEST_SECONDS.labels(
                    scope["method"], getattr(route, "path", "unmatched"), str(message["status"])
                ).observe(time.perf_counter() - started)
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if scope["path"].startswith(("/static/", "/docs/")):
                    # Revalidate (a cheap 304) so that after an upgrade no browser mixes old
                    # and new console modules (or Swagger UI with its starting script).
                    headers.setdefault("Cache-Control", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)
