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
a time.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from datetime import UTC, datetime, tzinfo
from typing import Any

from prometheus_client import Counter as PrometheusCounter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.bus import Bus, Message, Subscription
from safecity.city.models import Camera
from safecity.ops.alerts import Suppressed, raise_ruled_alert
from safecity.ops.grouping import DEFAULT_GROUPING, AlertGrouping
from safecity.ops.models import Alert, AlertSource
from safecity.store.engine import Database

log = logging.getLogger(__name__)

TOPIC_PREFIX = "analytics/events/"
EVENTS_PATTERN = TOPIC_PREFIX + "+"

EVENTS = PrometheusCounter(
    "safecity_analytics_events_total", "Analytics events taken in, by outcome", ["outcome"]
)


def events_topic(camera_code: str) -> str:
    return TOPIC_PREFIX + camera_code


class AnalyticsEvent(BaseModel):
    """One detection, as the analytics engine publishes it."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$", examples=["intrusion"]
    )
    confidence: float = Field(ge=0, le=1, description="How sure the detector is, 0..1.")
    at: AwareDatetime = Field(description="When it was seen (ISO 8601 with the zone).")
    zone: str | None = Field(
        default=None, min_length=1, max_length=100, description="The camera zone it was in."
    )
    snapshot: str | None = Field(
        default=None, min_length=1, max_length=500, description="Reference to a still image."
    )
    details: dict[str, Any] = Field(default_factory=dict, description="Anything else to keep.")


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
    details: dict[str, Any] = {
        **event.details,
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
    return (Outcome.RAISED if created else Outcome.FOLDED), alert


class AnalyticsAlerts:
    """Takes the analytics events off the bus and raises their alerts."""

    def __init__(
        self,
        bus: Bus,
        database: Database,
        *,
        zone: tzinfo = UTC,
        grouping: AlertGrouping = DEFAULT_GROUPING,
    ) -> None:
        self._bus = bus
        self._database = database
        self._zone = zone
        self._grouping = grouping
        self._subscription: Subscription | None = None
        self.counts: Counter[Outcome] = Counter()
        """Events by outcome since start (also exported as a Prometheus counter)."""

    def start(self) -> None:
        self._subscription = self._bus.subscribe(EVENTS_PATTERN, self._on_event)

    def stop(self) -> None:
        """Handle the events already published, and stop."""
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
        try:
            with self._database.session() as session:
                outcome, _ = take_event(
                    session, code, event, zone=self._zone, grouping=self._grouping
                )
        except UnknownCamera:
            log.warning("analytics event for unknown camera %s: no alert", code)
            return Outcome.UNKNOWN_CAMERA
        except Exception:
            log.exception("could not raise the alert for the %s event at %s", event.kind, code)
            return Outcome.FAILED
        return outcome

    def _count(self, outcome: Outcome) -> None:
        self.counts[outcome] += 1
        EVENTS.labels(outcome.value).inc()
