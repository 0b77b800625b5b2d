"""Camera-health alerts: a camera that was online and stays down, or stops being recorded,
pages the OCC once.

``CameraHealthAlerts`` listens to the ``StreamHealth`` reports on ``cameras/+/health`` (every
~2 s per camera). An outage starts at the first failing report after the camera was seen
online; when it is still failing ``grace`` later, one ``camera_health`` alert is raised through
the ordinary intake (kind ``camera_<status>``, e.g. ``camera_unreachable``). A short blip or a
reconnect that succeeds within the grace period raises nothing. An online report ends the
outage, so the next one raises a new alert. ``connecting`` neither starts nor ends an outage
(a reconnect loop goes failing → connecting → failing); ``stopped`` (the node let the camera go
on purpose) ends it without an alert.

A camera already dead when the node starts is never seen online: its outage starts at its first
failing report and raises after the longer ``start_grace`` (cameras take a while to come up
after a restart), with a title that says it has been down since the node started.

A camera online whose video cannot be written (``recording_error``: a full, read-only or
failing media disk) is an outage of its own: still so ``grace`` later, it raises one
``camera_not_recording`` alert with the reason; writing again ends it.

The alert goes through the camera's alert rules (ops/rules.py, kind ``camera_<status>``), so a
site can raise the priority of its camera outages, or suppress them.

Reports are handled on the bus's delivery thread for this subscriber, one at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import select

from safecity.bus import Bus, Message, Subscription
from safecity.city.models import Camera
from safecity.core.clock import utcnow
from safecity.ops.alerts.grouping import DEFAULT_GROUPING, AlertGrouping
from safecity.ops.alerts.intake import Suppressed, raise_ruled_alert
from safecity.ops.models import AlertSource
from safecity.store.engine import Database
from safecity.video.ingest.health import HEALTH_PATTERN, StreamHealth
from safecity.video.models import StreamStatus

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(seconds=30)
DEFAULT_START_GRACE = timedelta(minutes=2)

FAILING = frozenset(
    {
        StreamStatus.STALLED,
        StreamStatus.UNREACHABLE,
        StreamStatus.UNAUTHORIZED,
        StreamStatus.NOT_FOUND,
        StreamStatus.CORRUPT,
        StreamStatus.UNSUPPORTED,
        StreamStatus.OFFLINE,
    }
)

NOT_RECORDING = "camera_not_recording"
"""The alert kind of an online camera whose video cannot be written."""

_PLAIN = {
    StreamStatus.STALLED: "stopped sending video",
    StreamStatus.UNREACHABLE: "cannot be reached",
    StreamStatus.UNAUTHORIZED: "refuses the configured credentials",
    StreamStatus.NOT_FOUND: "has no stream at the configured address",
    StreamStatus.CORRUPT: "is sending corrupt video",
    StreamStatus.UNSUPPORTED: "is sending video SafeCity cannot read",
    StreamStatus.OFFLINE: "is offline",
}


@dataclass
class _Outage:
    since: datetime
    from_start: bool = False
    """Not seen online since this process started."""
    alerted: bool = False


class CameraHealthAlerts:
    def __init__(
        self,
        bus: Bus,
        database: Database,
        *,
        grace: timedelta = DEFAULT_GRACE,
        start_grace: timedelta = DEFAULT_START_GRACE,
        zone: tzinfo = UTC,
        grouping: AlertGrouping = DEFAULT_GROUPING,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._bus = bus
        self._database = database
        self._grace = grace
        self._start_grace = start_grace
        self._zone = zone
        self._grouping = grouping
        self._clock = clock
        self._online: set[str] = set()
        """Cameras seen online, and not stopped, since this process started."""
        self._seen_online: set[str] = set()
        """Cameras seen online at least once since this process started."""
        self._outages: dict[str, _Outage] = {}
        self._recording_outages: dict[str, _Outage] = {}
        self._subscription: Subscription | None = None

    def start(self) -> None:
        self._subscription = self._bus.subscribe(HEALTH_PATTERN, self._on_report)

    def stop(self) -> None:
        """Handle the reports already published, and stop."""
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    def _on_report(self, message: Message) -> None:
        try:
            health = StreamHealth.from_payload(message.payload)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("ignoring malformed health report on %s: %r", message.topic, exc)
            return
        self.observe(health)

    def observe(self, health: StreamHealth) -> None:
        """Take in one report (what the bus handler does with each)."""
        self._observe_recording(health)
        code, status = health.camera_code, health.status
        if status is StreamStatus.ONLINE:
            self._online.add(code)
            self._seen_online.add(code)
            self._outages.pop(code, None)
            return
        if status is StreamStatus.STOPPED:
            self._online.discard(code)
            self._outages.pop(code, None)
            return
        if status not in FAILING:
            return
        if code not in self._online and code in self._seen_online:
            return  # stopped on purpose earlier: wait until it is online again
        now = self._clock()
        outage = self._outages.setdefault(
            code, _Outage(since=now, from_start=code not in self._online)
        )
        grace = self._start_grace if outage.from_start else self._grace
        if outage.alerted or now - outage.since < grace:
            return
        try:
            outage.alerted = self._raise(health, outage, now)
        except Exception:
            log.exception("could not raise the health alert for camera %s; trying again", code)

    def _observe_recording(self, health: StreamHealth) -> None:
        """A camera online whose video cannot be written (full or failing media disk) raises
        one ``camera_not_recording`` alert when it has lasted ``grace``; writing again ends
        it. Reports while the camera is not online leave it as it is: the stream's own outage
        is the alert then."""
        code = health.camera_code
        if health.status is StreamStatus.STOPPED or (
            health.online and health.recording_error is None
        ):
            self._recording_outages.pop(code, None)
            return
        if health.recording_error is None:
            return
        now = self._clock()
        outage = self._recording_outages.setdefault(code, _Outage(since=now))
        if outage.alerted or now - outage.since < self._grace:
            return
        try:
            outage.alerted = self._raise_not_recording(health, outage, now)
        except Exception:
            log.exception("could not raise the recording alert for camera %s; trying again", code)

    def _raise(self, health: StreamHealth, outage: _Outage, now: datetime) -> bool:
        """True once the alert is stored (or can never be: an unknown camera)."""
        status = health.status
        seconds = int((now - outage.since).total_seconds())
        since = " since the node started" if outage.from_start else ""
        title = f"{_PLAIN[status]}{since} (for {seconds} s)"
        if health.detail:
            title = f"{title}: {health.detail}"
        return self._store(
            health,
            kind=f"camera_{status.value}",
            title=title,
            details={
                "status": status.value,
                "detail": health.detail,
                "failing_since": outage.since.isoformat(),
                "down_since_start": outage.from_start,
                "reconnects": health.reconnects,
            },
            outage=f"health:{outage.since.isoformat()}",
            now=now,
        )

    def _raise_not_recording(self, health: StreamHealth, outage: _Outage, now: datetime) -> bool:
        seconds = int((now - outage.since).total_seconds())
        return self._store(
            health,
            kind=NOT_RECORDING,
            title=f"is not recording (for {seconds} s): {health.recording_error}",
            details={
                "error": health.recording_error,
                "failing_since": outage.since.isoformat(),
            },
            outage=f"recording:{outage.since.isoformat()}",
            now=now,
        )

    def _store(
        self,
        health: StreamHealth,
        *,
        kind: str,
        title: str,
        details: dict[str, object],
        outage: str,
        now: datetime,
    ) -> bool:
        """Raise ``Camera <code> <title>`` through the camera's alert rules; True once stored
        (or suppressed, or never possible: an unknown camera)."""
        with self._database.session() as session:
            camera = session.scalars(
                select(Camera).where(Camera.code == health.camera_code)
            ).first()
            if camera is None:
                log.warning("health report for unknown camera %s: no alert", health.camera_code)
                return True
            try:
                raise_ruled_alert(
                    session,
                    source=AlertSource.CAMERA_HEALTH,
                    kind=kind,
                    title=f"Camera {camera.code} {title}"[:200],
                    camera=camera,
                    zone=self._zone,
                    details=details,
                    # one alert per outage: a new outage is a new alert, never folded into the
                    # last
                    dedup_key=f"camera:{camera.id}:{outage}",
                    actor="system:camera-health",
                    now=now,
                    grouping=self._grouping,
                )
            except Suppressed as suppressed:
                log.info("camera %s %s: %s", camera.code, kind, suppressed)
                return True
        log.info("camera %s %s: alert raised", camera.code, kind)
        return True
