"""The OCC's domain events: an alert or an incident as it stands after a committed change.

``ChangePublisher`` hooks a session factory. It notes the alerts and incidents a flush wrote,
builds their events as they stand after the flush, and publishes them on the bus only once the
transaction commits (a rolled-back change never reaches anyone). Every writer — the API, the
camera-health worker, analytics intake, the SLA escalator, a command — is covered without
remembering to publish, and no web app is needed: ``OpsServices`` attaches it in every process
that runs the OCC's workers. The consoles' live feed (``safecity/ops/feed``) is one reader.

The events, their topics, versions and fields are described in docs/events.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from safecity.bus import Bus
from safecity.bus.events import Event
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Alert, AlertSource, AlertStatus, Incident, IncidentEvent

log = logging.getLogger(__name__)


class AlertChanged(Event):
    """An alert was raised, folded a repeat, was acknowledged, grouped or linked to an
    incident: the alert as it stands now."""

    topic: ClassVar[str] = "ops/alerts/changed"
    version: ClassVar[int] = 1

    id: int
    source: AlertSource
    kind: str
    title: str
    priority: int
    status: AlertStatus
    camera_id: int | None
    site_id: int | None
    district_id: int | None
    latitude: float | None
    longitude: float | None
    details: dict[str, Any]
    count: int = Field(description="Repeats folded into this alert.")
    first_at: datetime
    last_at: datetime
    acknowledged_at: datetime | None
    incident_id: int | None
    group_id: int | None = Field(description="First alert of the same kind nearby; null: alone.")
    group_key: str | None = Field(description="Same for every alert of a group.")

    @classmethod
    def of(cls, alert: Alert) -> AlertChanged:
        return cls.model_validate(alert, from_attributes=True)


class Jurisdiction(BaseModel):
    """Who handles an incident: its district and its police unit (either may be null)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    district_id: int | None
    police_unit_id: int | None


class IncidentChanged(Event):
    """An incident was opened, moved through its lifecycle, edited, or had a note, SOP step or
    escalation added: the incident as it stands now."""

    topic: ClassVar[str] = "ops/incidents/changed"
    version: ClassVar[int] = 1

    id: int
    number: str
    type_code: str
    priority: int
    status: IncidentStatus
    latitude: float
    longitude: float
    district_id: int | None
    police_unit_id: int | None
    opened_by: str
    opened_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    summary: str | None
    camera_ids: list[int] = Field(description="Sorted.")
    moved_from: Jurisdiction | None = Field(
        default=None,
        description="Its district and unit before this change, when either changed (handed "
        "to another unit); null otherwise.",
    )

    @classmethod
    def of(cls, incident: Incident, moved_from: Jurisdiction | None = None) -> IncidentChanged:
        fields = {name: getattr(incident, name) for name in _INCIDENT_COLUMNS}
        return cls.model_validate(
            {
                **fields,
                "camera_ids": sorted(camera.id for camera in incident.cameras),
                "moved_from": moved_from,
            }
        )


_INCIDENT_COLUMNS = tuple(
    name for name in IncidentChanged.model_fields if name not in ("camera_ids", "moved_from")
)

OpsEvent = AlertChanged | IncidentChanged


def jurisdiction_before(obj: object) -> Jurisdiction | None:
    """An incident's district and unit before the flush, when either changed. Read while the
    flush's attribute history is still there."""
    if not isinstance(obj, Incident):
        return None
    state = inspect(obj)
    was: dict[str, int | None] = {}
    changed = False
    for key in ("district_id", "police_unit_id"):
        history = state.attrs[key].history
        if history.deleted and history.deleted[0] is not None:
            was[key] = history.deleted[0]
            changed = True
        else:
            was[key] = getattr(obj, key)
    return Jurisdiction(**was) if changed else None


def event_of(obj: object, moved_from: Jurisdiction | None) -> OpsEvent | None:
    """The event of a flushed row, or None for rows that have none."""
    if isinstance(obj, Alert):
        return AlertChanged.of(obj)
    if isinstance(obj, Incident):
        return IncidentChanged.of(obj, moved_from)
    if isinstance(obj, IncidentEvent):
        # A note, an SOP step or an escalation changes what the incident page shows, though
        # not the incident row: readers get the incident again and refetch its details.
        return IncidentChanged.of(obj.incident)
    return None


_PENDING = "safecity.events.pending"
_FLUSHED = "safecity.events.flushed"


class ChangePublisher:
    """Publishes the events of a transaction's changes when, and only when, it commits.
    ``start``/``stop`` attach it to the session factory and detach it."""

    def __init__(self, sessions: sessionmaker[Session], bus: Bus) -> None:
        self._sessions = sessions
        self._bus = bus
        self._listeners: list[tuple[str, Callable[..., None]]] = [
            ("after_flush", self._after_flush),
            ("after_flush_postexec", self._after_flush_postexec),
            ("after_commit", self._after_commit),
            ("after_rollback", self._forget),
        ]

    def start(self) -> None:
        for name, listener in self._listeners:
            event.listen(self._sessions, name, listener)

    def stop(self) -> None:
        for name, listener in self._listeners:
            if event.contains(self._sessions, name, listener):
                event.remove(self._sessions, name, listener)

    @staticmethod
    def _after_flush(session: Session, _context: object) -> None:
        written = session.info.setdefault(_FLUSHED, [])
        written.extend((obj, jurisdiction_before(obj)) for obj in (*session.new, *session.dirty))

    @staticmethod
    def _after_flush_postexec(session: Session, _context: object) -> None:
        written = session.info.pop(_FLUSHED, [])
        if not written:
            return
        pending: dict[tuple[str, int], dict[str, Any]] = session.info.setdefault(_PENDING, {})
        for obj, moved_from in written:
            changed = event_of(obj, moved_from)
            if changed is None:
                continue
            key = (changed.topic, changed.id)
            # The last flush before commit wins: it is the state that commits. Where it was
            # before is where it was before the transaction's first change.
            earlier = pending.get(key)
            if isinstance(changed, IncidentChanged) and earlier is not None:
                first_move = earlier["data"]["moved_from"]
                if first_move is not None:
                    changed = changed.model_copy(
                        update={"moved_from": Jurisdiction.model_validate(first_move)}
                    )
            # Encoded now, as the row stands after this flush, not as it may be at commit.
            pending[key] = changed.envelope()

    def _after_commit(self, session: Session) -> None:
        pending: dict[tuple[str, int], dict[str, Any]] = session.info.pop(_PENDING, {})
        for (topic, _id), envelope in pending.items():
            try:
                self._bus.publish(topic, envelope)
            except Exception:
                log.exception("could not publish %s", topic)

    @staticmethod
    def _forget(session: Session) -> None:
        session.info.pop(_PENDING, None)
        session.info.pop(_FLUSHED, None)
