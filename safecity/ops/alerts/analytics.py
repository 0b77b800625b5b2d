"""Analytics intake: detection events from the analytics engine become alerts, as the rules say.

The contract (the analytics engine publishes; an outside analytics box may POST the same body
with ``camera`` added to ``/api/analytics/events``): topic ``analytics/events/<camera code>``,
payload::

    {"kind": "intrusion", "confidence": 0.87, "at": "2026-05-01T21:14:03Z",
     "zone": "gate", "snapshot": "snapshots/W-PUMP/2026-05-01T21-14-03.jpg",
     "details": {"track": 17}}

``kind`` is a lower-case word (intrusion, loitering, fight, fire, crowd, tamper…), ``confidence``
0..1, ``at`` an ISO time with its zone; ``zone``, ``snapshot`` and ``details`` are optional.
Anything else is malformed: logged, counted and dropped, and the next event is taken as usual.
The camera's alert rules then set the priority or suppress it (ops/rules.py); a burst from one
camera folds into one alert and nearby alerts of the same kind are grouped (ops/alerts.py).

``AnalyticsAlerts`` handles the events on the bus's delivery thread for this subscriber, one at
a time. A database failure that may pass (the connection lost or refused, a lock or deadlock,
the pool exhausted) is retried on that thread after 0.5, 1, 2 and 4 s, each retry counted
(``outcome="retried"``); then the event is given up with an error log (``failed``). Malformed
events and unknown cameras are never retried, nor is any other error (a bug does not pass).
While it waits, the events behind it queue on the bus (which drops beyond its limit).
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import Counter
from datetime import UTC, datetime, tzinfo
from typing import Any

from prometheus_client import Counter as PrometheusCounter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import exc as db_errors
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.analytics.models import AnalyticsEvent as StoredEvent
from safecity.bounds import Details, Line, Moment
from safecity.bus import Bus, Message, Subscription
from safecity.city.models import Camera
from safecity.ops.alerts.grouping import DEFAULT_GROUPING, AlertGrouping
from safecity.ops.alerts.intake import Suppressed, raise_ruled_alert
from safecity.ops.models import Alert, AlertSource
from safecity.store.engine import Database

log = logging.getLogger(__name__)

TOPIC_PREFIX = "analytics/events/"
EVENTS_PATTERN = TOPIC_PREFIX + "+"

EVENTS = PrometheusCounter(
    "safecity_analytics_events_total", "Analytics events taken in, by outcome", ["outcome"]
)


RETRIED = "retried"
"""The counter's label for a retry after a database failure (one per retry, not an outcome)."""
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
"""Seconds to wait before each retry of an event that met a database failure."""


def events_topic(camera_code: str) -> str:
    return TOPIC_PREFIX + camera_code


class AnalyticsEvent(BaseModel):
    """One detection, as the analytics engine publishes it."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(  # its own pattern is stricter than Line
        min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$", examples=["intrusion"]
    )
    confidence: float = Field(
        ge=0, le=1, allow_inf_nan=False, description="How sure the detector is, 0..1."
    )
    at: Moment = Field(description="When it was seen (ISO 8601 with the zone).")
    zone: Line | None = Field(
        default=None, min_length=1, max_length=100, description="The camera zone it was in."
    )
    snapshot: Line | None = Field(
        default=None, min_length=1, max_length=500, description="Reference to a still image."
    )
    details: Details = Field(default_factory=dict, description="Anything else to keep.")


class Outcome(enum.StrEnum):
    RAISED = "raised"
    FOLDED = "folded"
    """A repeat, counted into the camera's open alert of that kind."""
    SUPPRESSED = "suppressed"
    UNKNOWN_CAMERA = "unknown_camera"
    MALFORMED = "malformed"
    FAILED = "failed"


class UnknownCamera(LookupError):
    pass


def passing_failure(exc: Exception) -> bool:
    """A database failure that may pass if tried again: the connection lost or refused, a lock,
    a deadlock or a serialization failure, no connection free in the pool."""
    if isinstance(exc, db_errors.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, db_errors.OperationalError | db_errors.InterfaceError
        )
    return isinstance(exc, db_errors.TimeoutError)


def _title(camera: Camera, event: AnalyticsEvent) -> str:
    what = event.kind.replace("_", " ").capitalize()
    zone = f", zone {event.zone}" if event.zone else ""
    return f"{what} at camera {camera.code}{zone} ({event.confidence:.0%})"[:200]


def take_event(
    session: Session,
    camera_code: str,
    event: AnalyticsEvent,
    *,
    zone: tzinfo,
    grouping: AlertGrouping = DEFAULT_GROUPING,
    actor: str = "analytics",
    now: datetime | None = None,
) -> tuple[Outcome, Alert | None]:
    """Apply the rules to one event and raise (or fold) its alert. ``UnknownCamera`` when no
    camera has that code."""
    camera = session.scalars(select(Camera).where(Camera.code == camera_code)).first()
    if camera is None:
        raise UnknownCamera(f"no camera {camera_code!r}")
    stored = _stored_event(session, event, camera)
    shown = {k: v for k, v in event.details.items() if k != "event_id" or stored is not None}
    details: dict[str, Any] = {
        **shown,
        "confidence": event.confidence,
        "detected_at": event.at.astimezone(UTC).isoformat(),
        "zone": event.zone,
        "snapshot": event.snapshot,
        "actor": actor,
    }
    try:
        alert, created, _ = raise_ruled_alert(
            session,
            source=AlertSource.ANALYTICS,
            kind=event.kind,
            title=_title(camera, event),
            camera=camera,
            zone=zone,
            at=event.at,
            confidence=event.confidence,
            details=details,
            actor=actor,
            now=now,
            grouping=grouping,
        )
    except Suppressed as suppressed:
        log.debug("%s at %s: %s", event.kind, camera_code, suppressed)
        return Outcome.SUPPRESSED, None
    if stored is not None and stored.alert_id is None:
        stored.alert_id = alert.id
    return (Outcome.RAISED if created else Outcome.FOLDED), alert


def _stored_event(session: Session, event: AnalyticsEvent, camera: Camera) -> StoredEvent | None:
    """The event as our own analytics stored it before sending it (``details.event_id``), so
    that forensic search leads to the alert and the alert to the event's snapshot and clip.
    None without an id, or for an id of another camera's event (a forged body): the alert
    then keeps no ``event_id``, so it shows no other camera's snapshot as its own."""
    event_id = event.details.get("event_id")
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        return None
    stored = session.get(StoredEvent, event_id)
    return stored if stored is not None and stored.camera_id == camera.id else None


class AnalyticsAlerts:
    """Takes the analytics events off the bus and raises their alerts."""

    def __init__(
        self,
        bus: Bus,
        database: Database,
        *,
        zone: tzinfo = UTC,
        grouping: AlertGrouping = DEFAULT_GROUPING,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self._bus = bus
        self._database = database
        self._zone = zone
        self._grouping = grouping
        self._retry_delays = retry_delays
        self._stopping = threading.Event()
        self._subscription: Subscription | None = None
        self.counts: Counter[Outcome] = Counter()
        """Events by outcome since start (also exported as a Prometheus counter)."""
        self.retries = 0
        """Retries after a database failure since start (the counter's ``retried``)."""

    def start(self) -> None:
        self._stopping.clear()
        self._subscription = self._bus.subscribe(EVENTS_PATTERN, self._on_event)

    def stop(self) -> None:
        """Handle the events already published, and stop. An event waiting to be retried is
        given up at once."""
        self._stopping.set()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    def _on_event(self, message: Message) -> None:
        self._count(self._take(message))

    def _take(self, message: Message) -> Outcome:
        code = message.topic.removeprefix(TOPIC_PREFIX)
        try:
            event = AnalyticsEvent.model_validate(message.payload)
        except ValidationError as exc:
            log.warning(
                "ignoring malformed analytics event on %s: %s",
                message.topic,
                exc.errors(include_url=False, include_input=False),
            )
            return Outcome.MALFORMED
        delays = iter(self._retry_delays)
        attempt = 1
        while True:
            try:
                return self._attempt(code, event)
            except UnknownCamera:
                log.warning("analytics event for unknown camera %s: no alert", code)
                return Outcome.UNKNOWN_CAMERA
            except Exception as exc:
                delay = next(delays, None) if passing_failure(exc) else None
                if delay is None or self._stopping.is_set():
                    log.exception(
                        "could not raise the alert for the %s event at %s (attempt %d): "
                        "the event is lost",
                        event.kind,
                        code,
                        attempt,
                    )
                    return Outcome.FAILED
                log.warning(
                    "database failure on the %s event at %s (attempt %d), retrying in %g s: %s",
                    event.kind,
                    code,
                    attempt,
                    delay,
                    exc,
                )
                if self._stopping.wait(delay):
                    log.error(
                        "stopping: gave up the %s event at %s after %d attempts; it is lost",
                        event.kind,
                        code,
                        attempt,
                    )
                    return Outcome.FAILED
            attempt += 1
            self.retries += 1
            EVENTS.labels(RETRIED).inc()

    def _attempt(self, code: str, event: AnalyticsEvent) -> Outcome:
        """One try in its own transaction (rolled back on any failure)."""
        with self._database.session() as session:
            outcome, _ = take_event(session, code, event, zone=self._zone, grouping=self._grouping)
        return outcome

    def _count(self, outcome: Outcome) -> None:
        self.counts[outcome] += 1
        EVENTS.labels(outcome.value).inc()
