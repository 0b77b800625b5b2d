"""The FastAPI application: API routers plus the console, with security headers and metrics
(``safecity/api/headers.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from safecity import __version__
from safecity.analytics import api as video_analytics_api
from safecity.api import errors, system
from safecity.api.docs import add_api_docs
from safecity.api.headers import SecurityHeadersAndMetrics
from safecity.api.origin import CrossOriginGuard
from safecity.auth import admin_api as users_admin_api
from safecity.auth import api as auth_api
from safecity.auth.throttle import LoginThrottle
from safecity.bus import Bus, InProcessBus
from safecity.city import api as city_api
from safecity.city.admin import api as city_admin_api
from safecity.insights import api as insights_api
from safecity.insights import statistics_api
from safecity.insights.crimes import api as crime_records_api
from safecity.insights.crimes.occ import ClosedIncidentCounter
from safecity.insights.hotspots import api as hotspots_api
from safecity.insights.kpis import api as kpis_api
from safecity.ops.alerts import analytics_api, rules_api
from safecity.ops.alerts import api as alerts_api
from safecity.ops.dispatch import api as notifications_api
from safecity.ops.events import ChangePublisher
from safecity.ops.feed import api as feed_api
from safecity.ops.feed.changes import FeedHub
from safecity.ops.incident_types import api as types_api
from safecity.ops.incidents import api as incidents_api
from safecity.ops.incidents import attachments_api, clips_api
from safecity.ops.shifts import api as shifts_api
from safecity.planning.placement import api as placement_api
from safecity.planning.requests import api as requests_api
from safecity.reports import api as reports_api
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.evidence import api as evidence_api
from safecity.video.live import api as live_api
from safecity.video.live.feed import LiveFeeds
from safecity.video.live.snapshots import SnapshotProvider
from safecity.video.playback import api as playback_api
from safecity.video.recording import holds_api
from safecity.web import STATIC_DIR


def create_app(
    settings: Settings,
    database: Database,
    snapshots: SnapshotProvider | None = None,
    *,
    live: LiveFeeds | None = None,
    bus: Bus | None = None,
    node_health: system.NodeHealth | None = None,
) -> FastAPI:
    """The app. ``bus`` is the process's bus: the workers publish on it, and so do the OCC's
    domain events of every change committed in the process (``OpsServices`` publishes them).
    Without one the app makes its own and publishes the domain events on it itself, enough
    for the live feed of changes made in this process."""
    own_bus = bus is None
    app_bus: Bus = bus if bus is not None else InProcessBus()
    feed = FeedHub(app_bus, translate=feed_api.feed_item)
    changes = ChangePublisher(database.sessions, app_bus) if own_bus else None
    # Incidents closed in the OCC become crime records (insights/crimes/occ.py).
    crimes = ClosedIncidentCounter(app_bus, database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        feed.start()
        if changes is not None:
            changes.start()
        crimes.start()
        try:
            yield
        finally:
            crimes.stop()
            if changes is not None:
                changes.stop()
            feed.stop()
            if own_bus and isinstance(app_bus, InProcessBus):
                app_bus.close()

    app = FastAPI(
        title="SafeCity",
        version=__version__,
        description="City video surveillance operations: cameras, sites, districts, incidents.",
        lifespan=lifespan,
        max_body_size=settings.api.max_request_kib * 1024,
        # FastAPI's own pages load from a CDN, and it would serve them to anybody: /docs and
        # /openapi.json are added below as the settings say (safecity/api/docs.py).
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    app.state.bus = app_bus
    app.state.feed = feed
    app.state.settings = settings
    app.state.database = database
    app.state.snapshots = snapshots
    app.state.live = live
    app.state.node_health = node_health
    app.state.login_throttle = LoginThrottle(settings.api.login)

    app.include_router(system.router)
    app.include_router(auth_api.router)
    app.include_router(users_admin_api.router)
    app.include_router(city_api.router)
    app.include_router(city_admin_api.router)
    app.include_router(insights_api.router)
    app.include_router(kpis_api.router)
    app.include_router(reports_api.router)
    app.include_router(statistics_api.router)
    app.include_router(crime_records_api.router)
    app.include_router(hotspots_api.router)
    app.include_router(requests_api.router)
    app.include_router(live_api.router)
    app.include_router(playback_api.router)
    app.include_router(evidence_api.router)
    app.include_router(holds_api.router)
    app.include_router(alerts_api.router)
    app.include_router(incidents_api.router)
    app.include_router(attachments_api.router)
    app.include_router(clips_api.router)
    app.include_router(shifts_api.router)
    app.include_router(feed_api.router)
    app.include_router(types_api.router)
    app.include_router(notifications_api.router)
    app.include_router(rules_api.router)
    app.include_router(analytics_api.router)
    app.include_router(video_analytics_api.router)
    app.include_router(placement_api.router)
    add_api_docs(app, settings.api)

    app.add_middleware(CrossOriginGuard, trusted=settings.api.trusted_origins)
    app.add_middleware(SecurityHeadersAndMetrics)
    if settings.api.trusted_proxies:
        # The one place X-Forwarded-For is believed (uvicorn runs with proxy_headers=False):
        # only from a trusted proxy, and then its client is the rightmost untrusted address
        # in the header, the one that proxy added, not whatever the client sent before it.
        # Added last, so it runs first and every handler sees that client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.api.trusted_proxies)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app
