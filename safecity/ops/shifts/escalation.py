"""SLA escalation: an alert or incident that waits too long at a stage goes to the supervisor.

The four clocks are the SLA figures' stages (``sla.py``), timed against limits per priority
(``ops.sla`` in the settings):

- acknowledge: an alert still new, from when it was raised (``first_at``);
- dispatch: an incident still new, from when it was opened or, after a unit rejected it, from
  the (latest) rejection;
- accept: an incident dispatched and not accepted, from its latest dispatch;
- arrive: an incident accepted with nobody on scene, from its acceptance.

An incident's clock starts at its latest transition into the status it waits in (read from
its history, ``incident_events``); ``Incident.dispatched_at`` stays the first dispatch, which
the SLA figures measure. Each breach is escalated once per alert and stage, and once per
incident clock (``Escalation.clock_event_id``): a re-dispatched incident that the second unit
leaves unanswered escalates again. An escalation is an ``escalations`` row naming the
supervisor of the shift on (or nobody: "no shift on"), an ``escalation`` event in the
incident's history, an audit row, and after the commit a message on ``ops/feed/escalation``
for the consoles. Which clocks are overdue is decided by the pure functions below; the
``SlaEscalator`` worker only reads the clocks, writes the result and publishes it, in chunks
of ``CHUNK`` per transaction so a burst of breaches holds its locks (the escalations' own,
and the audit log's from its first audit row) only briefly at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.bus import Bus
from safecity.core.clock import utcnow
from safecity.core.periodic import PeriodicWork
from safecity.ops.incident_types import HIGHEST_PRIORITY, LOWEST_PRIORITY
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Alert, AlertStatus, Incident, IncidentEvent, IncidentEventKind
from safecity.ops.shifts.models import Escalation, SlaStage
from safecity.ops.shifts.service import current_shift
from safecity.settings import SlaSettings, SlaThresholds
from safecity.store.engine import Database
from safecity.store.locks import hold_key_lock, lock_row

log = logging.getLogger(__name__)

FEED_TOPIC = "ops/feed/escalation"
SYSTEM = "system"
NO_SHIFT = "no shift on"
CHUNK = 20
"""Breaches escalated per transaction (one audit row each); each chunk is
published once it commits."""
ESCALATIONS_LOCK = "ops:escalations"
"""Escalating passes take turns (two processes checking at once escalate a breach once)."""
PASS_LIMIT = 2000
"""At most this many breaches per pass; a larger backlog takes a few passes."""

_WAITING_FOR = {
    SlaStage.ACKNOWLEDGE: "acknowledged",
    SlaStage.DISPATCH: "dispatched",
    SlaStage.ACCEPT: "accepted",
    SlaStage.ARRIVE: "on scene",
}

# ---------------------------------------------------------------------------------------------
# Which clocks are overdue (pure)


@dataclass(frozen=True)
class Clock:
    """A stage an alert or an incident is waiting at, and since when."""

    stage: SlaStage
    priority: int
    started_at: datetime
    alert_id: int | None = None
    incident_id: int | None = None
    event_id: int | None = None
    """The incident's transition that started the clock (None for an alert)."""

    @property
    def key(self) -> tuple[str, int, SlaStage, int | None]:
        """What is escalated once: an alert's stage, or an incident's clock."""
        if self.incident_id is not None:
            return ("incident", self.incident_id, self.stage, self.event_id)
        assert self.alert_id is not None
        return ("alert", self.alert_id, self.stage, None)


@dataclass(frozen=True)
class Breach:
    clock: Clock
    limit: timedelta
    overdue: timedelta
    """How long past the limit, at the time of the check."""

    @property
    def due_at(self) -> datetime:
        return self.clock.started_at + self.limit


def alert_clock(
    alert_id: int, status: AlertStatus, priority: int, first_at: datetime
) -> Clock | None:
    if status is not AlertStatus.NEW:
        return None
    return Clock(SlaStage.ACKNOWLEDGE, priority, first_at, alert_id=alert_id)


INCIDENT_STAGES = {
    IncidentStatus.NEW: SlaStage.DISPATCH,
    IncidentStatus.DISPATCHED: SlaStage.ACCEPT,
    IncidentStatus.ACCEPTED: SlaStage.ARRIVE,
}
"""The stage an incident in each status waits at; none once on scene."""


def incident_clock(
    incident_id: int,
    status: IncidentStatus,
    priority: int,
    since: datetime,
    *,
    event_id: int | None = None,
) -> Clock | None:
    """The clock running for an incident in this status since its latest transition into it
    (``since``, ``event_id``); None once nobody is waiting on the OCC or the unit (on scene
    and after)."""
    stage = INCIDENT_STAGES.get(status)
    if stage is None:
        return None
    return Clock(stage, priority, since, incident_id=incident_id, event_id=event_id)


def stage_limit(sla: SlaSettings, stage: SlaStage, priority: int) -> timedelta:
    """The time a stage may take at a priority (outside 1–4 counts as the nearest end)."""
    thresholds: SlaThresholds = getattr(sla, stage.value)
    priority = min(max(priority, HIGHEST_PRIORITY), LOWEST_PRIORITY)
    return timedelta(seconds=getattr(thresholds, f"p{priority}"))


def overdue(
    clocks: Iterable[Clock],
    sla: SlaSettings,
    now: datetime,
    *,
    escalated: Collection[tuple[str, int, SlaStage, int | None]] = (),
) -> list[Breach]:
    """The clocks past their limit at ``now`` (strictly: at the limit is still in time) and
    not escalated already, the most overdue first."""
    breaches = []
    for clock in clocks:
        if clock.key in escalated:
            continue
        limit = stage_limit(sla, clock.stage, clock.priority)
        late = now - clock.started_at - limit
        if late > timedelta(0):
            breaches.append(Breach(clock, limit, late))
    breaches.sort(key=lambda breach: breach.overdue, reverse=True)
    return breaches


def _plain(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def describe(breach: Breach, supervisor: str | None) -> str:
    """The line the incident history and the supervisor read."""
    clock = breach.clock
    to = (
        f"escalated to supervisor {supervisor}"
        if supervisor
        else f"{NO_SHIFT}, nobody to escalate to"
    )
    return (
        f"Not {_WAITING_FOR[clock.stage]} within {_plain(breach.limit.total_seconds())} "
        f"(priority {clock.priority}): {to}"
    )


# ---------------------------------------------------------------------------------------------
# Reading the clocks and writing escalations


def _late(
    column: QueryableAttribute[Any],
    priority: QueryableAttribute[int],
    thresholds: SlaThresholds,
    now: datetime,
) -> ColumnElement[bool]:
    """SQL for "past the limit of its priority" (the same rule as ``stage_limit``)."""
    limits = {p: timedelta(seconds=getattr(thresholds, f"p{p}")) for p in range(1, 5)}
    return or_(
        and_(priority <= HIGHEST_PRIORITY, column < now - limits[HIGHEST_PRIORITY]),
        *(and_(priority == p, column < now - limits[p]) for p in (2, 3)),
        and_(priority >= LOWEST_PRIORITY, column < now - limits[LOWEST_PRIORITY]),
    )


def running_clocks(
    session: Session, sla: SlaSettings, now: datetime, *, limit: int = CHUNK
) -> tuple[list[Clock], dict[int, Alert], dict[int, Incident]]:
    """The clocks that may be overdue and are not escalated yet (at most ``limit`` per stage,
    the longest running first), with their alerts and incidents (``overdue`` decides)."""
    alerts = {
        alert.id: alert
        for alert in session.scalars(
            select(Alert)
            .where(
                Alert.status == AlertStatus.NEW,
                _late(Alert.first_at, Alert.priority, sla.acknowledge, now),
                ~exists(
                    select(Escalation.id).where(
                        Escalation.alert_id == Alert.id,
                        Escalation.stage == SlaStage.ACKNOWLEDGE,
                    )
                ),
            )
            .order_by(Alert.first_at, Alert.id)
            .limit(limit)
        )
    }
    clocks = [
        clock
        for clock in (alert_clock(a.id, a.status, a.priority, a.first_at) for a in alerts.values())
        if clock is not None
    ]
    incidents: dict[int, Incident] = {}
    since = aliased(IncidentEvent)
    latest = (
        select(func.max(IncidentEvent.id))
        .where(
            IncidentEvent.incident_id == Incident.id,
            IncidentEvent.kind == IncidentEventKind.TRANSITION,
            IncidentEvent.to_status == Incident.status,
        )
        .correlate(Incident)
        .scalar_subquery()
    )
    for status, stage in INCIDENT_STAGES.items():
        rows = session.execute(
            select(Incident, since.id, since.at)
            .join(since, since.incident_id == Incident.id)
            .where(
                Incident.status == status,
                since.id == latest,
                _late(since.at, Incident.priority, getattr(sla, stage.value), now),
                ~exists(
                    select(Escalation.id).where(
                        Escalation.incident_id == Incident.id,
                        Escalation.stage == stage,
                        Escalation.clock_event_id == since.id,
                    )
                ),
            )
            .order_by(since.at, Incident.id)
            .limit(limit)
        ).all()
        for incident, event_id, started_at in rows:
            incidents[incident.id] = incident
            clock = incident_clock(
                incident.id, incident.status, incident.priority, started_at, event_id=event_id
            )
            if clock is not None:
                clocks.append(clock)
    return clocks, alerts, incidents


def escalate_overdue(
    session: Session, sla: SlaSettings, now: datetime | None = None, *, limit: int = CHUNK
) -> list[dict[str, Any]]:
    """Escalate up to ``limit`` breaches now, the most overdue first, in the caller's
    transaction; the feed payloads to publish once it commits. Fewer than ``limit`` back
    means nothing else was overdue.

    Cheap when nothing is overdue (no lock). Otherwise the clocks are read again in the
    escalations' turn (``ESCALATIONS_LOCK``), so two processes checking at once escalate each
    breach once.
    """
    now = now or utcnow()
    clocks, _, _ = running_clocks(session, sla, now, limit=limit)
    if not overdue(clocks, sla, now):
        return []
    hold_key_lock(session, ESCALATIONS_LOCK)
    clocks, alerts, incidents = running_clocks(session, sla, now, limit=limit)
    shift = current_shift(session)
    payloads = []
    for breach in overdue(clocks, sla, now)[:limit]:
        clock = breach.clock
        alert = alerts.get(clock.alert_id) if clock.alert_id is not None else None
        incident = incidents.get(clock.incident_id) if clock.incident_id is not None else None
        escalation = Escalation(
            stage=clock.stage,
            alert_id=clock.alert_id,
            incident_id=clock.incident_id,
            clock_event_id=clock.event_id,
            priority=clock.priority,
            due_at=breach.due_at,
            threshold_seconds=breach.limit.total_seconds(),
            escalated_at=now,
            shift_id=shift.id if shift else None,
            supervisor_id=shift.supervisor_id if shift else None,
            supervisor=shift.supervisor if shift else None,
        )
        session.add(escalation)
        session.flush()
        text = describe(breach, escalation.supervisor)
        details: dict[str, Any] = {
            "escalation_id": escalation.id,
            "stage": clock.stage.value,
            "priority": clock.priority,
            "threshold_seconds": breach.limit.total_seconds(),
            "overdue_seconds": round(breach.overdue.total_seconds(), 1),
            "since": clock.started_at.isoformat(),
            "supervisor": escalation.supervisor,
            "shift_id": escalation.shift_id,
        }
        if incident is not None:
            session.add(
                IncidentEvent(
                    incident_id=incident.id,
                    at=now,
                    actor=SYSTEM,
                    kind=IncidentEventKind.ESCALATION,
                    text=text,
                    details=details,
                )
            )
            target = f"incident:{incident.number}"
        else:
            target = f"alert:{clock.alert_id}"
        audit(
            session,
            action="escalation.raise",
            actor=SYSTEM,
            target=target,
            details={**details, "text": text},
        )
        payloads.append(
            feed_payload(escalation, alert=alert, incident=incident, overdue=breach.overdue)
        )
    return payloads


def feed_payload(
    escalation: Escalation,
    *,
    alert: Alert | None,
    incident: Incident | None,
    overdue: timedelta,
) -> dict[str, Any]:
    subject = incident or alert
    return {
        "id": escalation.id,
        "stage": escalation.stage.value,
        "alert_id": escalation.alert_id,
        "incident_id": escalation.incident_id,
        "number": incident.number if incident else None,
        "priority": escalation.priority,
        "overdue_seconds": round(overdue.total_seconds(), 1),
        "threshold_seconds": escalation.threshold_seconds,
        "supervisor_id": escalation.supervisor_id,
        "district_id": subject.district_id if subject else None,
        "police_unit_id": incident.police_unit_id if incident else None,
        "at": escalation.escalated_at.isoformat(),
    }


class EscalationConflict(Exception):
    """Already acknowledged (answered 409)."""


def acknowledge(
    session: Session, escalation: Escalation, actor: User, *, now: datetime | None = None
) -> Escalation:
    lock_row(session, escalation)
    if escalation.acknowledged_at is not None:
        raise EscalationConflict(
            f"escalation {escalation.id} was acknowledged by {escalation.acknowledged_by}"
        )
    escalation.acknowledged_at = now or utcnow()
    escalation.acknowledged_by_id = actor.id
    escalation.acknowledged_by = actor.username
    session.flush()
    audit(
        session,
        action="escalation.acknowledge",
        actor=actor.username,
        actor_id=actor.id,
        target=f"escalation:{escalation.id}",
        details={
            "stage": escalation.stage.value,
            "alert_id": escalation.alert_id,
            "incident_id": escalation.incident_id,
        },
    )
    return escalation


# ---------------------------------------------------------------------------------------------
# The worker


class SlaEscalator:
    """Looks for overdue alerts and incidents every ``check_seconds`` and escalates them."""

    def __init__(
        self,
        sla: SlaSettings,
        database: Database,
        bus: Bus,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sla = sla
        self._database = database
        self._bus = bus
        self._clock = clock
        self._checks = PeriodicWork(
            "sla-escalator",
            self.check,
            every=sla.check_seconds,
            log=log,
            failed="SLA escalation check failed",
        )

    def start(self) -> None:
        self._checks.start()

    def stop(self) -> None:
        self._checks.stop()

    def check(self) -> list[dict[str, Any]]:
        """One pass: escalate what is overdue now, ``CHUNK`` breaches per transaction, each
        chunk published once it commits (up to ``PASS_LIMIT``; the rest next pass)."""
        now = self._clock()
        published: list[dict[str, Any]] = []
        while len(published) < PASS_LIMIT:
            with self._database.session() as session:
                payloads = escalate_overdue(session, self._sla, now, limit=CHUNK)
            for payload in payloads:
                log.info(
                    "escalated %s %s (%s) to %s",
                    "incident" if payload["incident_id"] else "alert",
                    payload["number"] or payload["alert_id"],
                    payload["stage"],
                    payload["supervisor_id"] or NO_SHIFT,
                )
                self._bus.publish(FEED_TOPIC, payload)
            published += payloads
            if len(payloads) < CHUNK or self._checks.stopping:
                break
        return published
