"""Telling police units about their incidents: an outbox, delivered at least once.

``enqueue_incident_notice`` writes the notices of an incident transition into the
``notifications`` table in the transaction that makes the transition, one row per unit,
channel (MQTT, webhook) and receiver, so a crash never loses one. ``NotificationDispatcher``
(a thread in every ``serve`` process) claims due rows, hands each receiver's rows to a small
pool of delivery threads (one receiver per thread at a time, so a slow or dead one holds up only
its own notices), delivers them and records the outcome: delivered; failed for good (refused,
or still undelivered at ``give_up_at``); or tried again later, waiting longer each time.

A claim is renewed right before each attempt, and only while it is still this worker's (the
row's attempt count is the proof), so it never runs out under a live worker. A worker that dies
holding one leaves the row to be claimed again when the claim runs out, so a notice may arrive
twice, never not at all: receivers drop repeats by the delivery id (``X-SafeCity-Delivery`` /
``"delivery"``).

Which receivers a process writes notices for is configured on its session factory
(``notify_through``): the ``NotificationDispatcher`` does it for ``serve`` and ``demo``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from safecity.audit.log import record as audit
from safecity.city.models import District, PoliceUnit
from safecity.core.backoff import Backoff
from safecity.core.clock import utcnow
from safecity.ops.dispatch.channels import (
    DeliveryFailed,
    MqttChannel,
    WebhookChannel,
    notice_body,
)
from safecity.ops.dispatch.models import Notification, NotificationChannel, NotificationState
from safecity.ops.models import Incident, IncidentEvent, IncidentEventKind
from safecity.settings import NotificationSettings
from safecity.store.engine import Database

log = logging.getLogger(__name__)

NOTICES = Counter(
    "safecity_notifications_total",
    "Delivery attempts of dispatch notifications, by channel and outcome "
    "(delivered, retried, failed)",
    ["channel", "outcome"],
)

_ROUTING = "safecity.notifications.routing"
# Makes SQLite take its write lock before the due rows are read (as the audit log does), so
# two claimers cannot take the same row; PostgreSQL uses FOR UPDATE SKIP LOCKED instead.
_SQLITE_TAKE_WRITE_LOCK = text("UPDATE notifications SET id = id WHERE 0 = 1")


class NotificationError(ValueError):
    """A request about a notice that cannot be met (answered 409)."""


# ---------------------------------------------------------------------------------------------
# Writing notices


@dataclass(frozen=True)
class NoticeRouting:
    """Where a unit's notices go: the MQTT topic (when a broker is configured) and its
    webhooks."""

    topic_prefix: str | None
    webhooks: Mapping[str, tuple[str, ...]]
    give_up_after: timedelta

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> NoticeRouting:
        return cls(
            topic_prefix=settings.mqtt.topic_prefix.rstrip("/") if settings.mqtt.host else None,
            webhooks={
                code: tuple(hook.url for hook in hooks) for code, hooks in settings.webhooks.items()
            },
            give_up_after=timedelta(hours=settings.give_up_hours),
        )

    def receivers(self, unit_code: str) -> list[tuple[NotificationChannel, str]]:
        found = [(NotificationChannel.WEBHOOK, url) for url in self.webhooks.get(unit_code, ())]
        if self.topic_prefix is not None:
            found.insert(0, (NotificationChannel.MQTT, unit_topic(self.topic_prefix, unit_code)))
        return found


def unit_topic(prefix: str, unit_code: str) -> str:
    return f"{prefix}/units/{unit_code}/incidents"


def notify_through(sessions: sessionmaker[Session], settings: NotificationSettings) -> None:
    """Make incident transitions in sessions from ``sessions`` write notices per ``settings``."""
    info = dict(sessions.kw.get("info") or {})
    info[_ROUTING] = NoticeRouting.from_settings(settings)
    sessions.configure(info=info)


def enqueue_incident_notice(
    session: Session, incident: Incident, event: IncidentEvent
) -> list[Notification]:
    """Write the notices of a transition for the unit the incident is with, and for the unit
    that just rejected it, in the caller's transaction. Nothing for notes, SOP steps, or an
    incident no unit has had."""
    routing = session.info.get(_ROUTING)
    if not isinstance(routing, NoticeRouting) or event.kind is not IncidentEventKind.TRANSITION:
        return []
    unit_ids = {incident.police_unit_id, event.details.get("police_unit_id")} - {None}
    if not unit_ids:
        return []
    units = session.scalars(
        select(PoliceUnit).where(PoliceUnit.id.in_(unit_ids)).order_by(PoliceUnit.id)
    )
    district = session.get(District, incident.district_id) if incident.district_id else None
    now = utcnow()
    written = []
    for unit in units:
        payload = notice_payload(incident, event, unit, district)
        for channel, target in routing.receivers(unit.code):
            notice = Notification(
                incident_id=incident.id,
                event_id=event.id,
                police_unit_code=unit.code,
                channel=channel,
                target=target,
                payload=payload,
                state=NotificationState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                give_up_at=now + routing.give_up_after,
            )
            session.add(notice)
            written.append(notice)
    session.flush()
    return written


def notice_payload(
    incident: Incident, event: IncidentEvent, unit: PoliceUnit, district: District | None
) -> dict[str, Any]:
    """What a unit is told: the incident as it stands after the event, and the event."""
    return {
        "unit": unit.code,
        "incident": {
            "id": incident.id,
            "number": incident.number,
            "type": incident.type_code,
            "type_name": incident.checklist.incident_type.name,
            "priority": incident.priority,
            "status": incident.status.value,
            "location": {"latitude": incident.latitude, "longitude": incident.longitude},
            "district": (
                {"id": district.id, "code": district.code, "name": district.name}
                if district is not None
                else None
            ),
            "police_unit": unit.code if incident.police_unit_id == unit.id else None,
            "opened_at": incident.opened_at.isoformat(),
            "summary": incident.summary,
            "link": f"/#/incidents/{incident.id}",
        },
        "event": {
            "id": event.id,
            "at": event.at.isoformat(),
            "transition": event.details.get("transition"),
            "from": event.from_status.value if event.from_status else None,
            "to": event.to_status.value if event.to_status else None,
            "by": event.actor,
            "reason": event.text,
        },
    }


# ---------------------------------------------------------------------------------------------
# Claiming and recording outcomes


@dataclass
class RetryPolicy:
    initial: float
    maximum: float
    backoff_jitter: float = 0.5

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        """When to try again after ``attempts`` failed ones: doubling, capped, with jitter."""
        wait = Backoff(
            self.initial, self.maximum, jitter=self.backoff_jitter, attempts=max(attempts - 1, 0)
        ).next_delay()
        return now + timedelta(seconds=wait)


def claim_due(
    session: Session,
    *,
    channels: Sequence[NotificationChannel],
    now: datetime,
    claim_for: timedelta,
    limit: int,
    skip_targets: Collection[str] = (),
) -> list[Notification]:
    """Take up to ``limit`` due notices for this worker (none for ``skip_targets``): counted as
    an attempt, and out of every other worker's reach until ``claim_for`` has passed. Commit
    right after. The attempt count a row has now proves the claim is this worker's
    (``extend_claim``, ``record_outcome``, ``release``)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(_SQLITE_TAKE_WRITE_LOCK)
    conditions = [
        Notification.state == NotificationState.PENDING,
        Notification.next_attempt_at <= now,
        Notification.channel.in_(list(channels)),
    ]
    if skip_targets:
        conditions.append(Notification.target.not_in(list(skip_targets)))
    due = list(
        session.scalars(
            select(Notification)
            .where(*conditions)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for notice in due:
        notice.attempts += 1
        notice.last_attempt_at = now
        notice.next_attempt_at = now + claim_for
    return due


def extend_claim(
    session: Session, notice_id: int, attempt: int, *, now: datetime, claim_for: timedelta
) -> bool:
    """Renew a claim right before its attempt: False (and nothing changed) when the claim is no
    longer this worker's: the notice was settled, or claimed again by another worker after this
    one's claim ran out (its attempt count moved on from ``attempt``)."""
    renewed = session.execute(
        update(Notification)
        .where(
            Notification.id == notice_id,
            Notification.state == NotificationState.PENDING,
            Notification.attempts == attempt,
        )
        .values(next_attempt_at=now + claim_for, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(renewed, "rowcount", 0) == 1)


def record_outcome(
    session: Session,
    notice_id: int,
    failure: DeliveryFailed | None,
    *,
    policy: RetryPolicy,
    now: datetime,
    attempt: int | None = None,
) -> NotificationState | None:
    """Store how an attempt went; the state it leaves, or None when the row is no longer
    pending (another worker, after this one's claim ran out, already settled it). With
    ``attempt`` (the count the claim gave), a failure is not stored once another worker has
    claimed the row since: that worker's attempt decides. A delivery always is."""
    notice = session.scalars(
        select(Notification).where(Notification.id == notice_id).with_for_update()
    ).first()
    if notice is None or notice.state is not NotificationState.PENDING:
        return None
    if failure is not None and attempt is not None and notice.attempts != attempt:
        return None
    channel = notice.channel.value
    if failure is None:
        notice.state, notice.delivered_at = NotificationState.DELIVERED, now
        NOTICES.labels(channel, "delivered").inc()
        return notice.state
    message = str(failure)
    retry_at = policy.next_attempt(notice.attempts, now) if failure.retry else None
    if retry_at is not None and retry_at <= notice.give_up_at:
        notice.next_attempt_at, notice.last_error = retry_at, message[:500]
        NOTICES.labels(channel, "retried").inc()
        log.warning(
            "notice %s to unit %s by %s not delivered (attempt %d), trying again at %s: %s",
            notice.id,
            notice.police_unit_code,
            channel,
            notice.attempts,
            retry_at.isoformat(timespec="seconds"),
            message,
        )
        return notice.state
    if failure.retry:
        message = f"gave up after {notice.attempts} attempts: {message}"
    notice.state, notice.last_error = NotificationState.FAILED, message[:500]
    NOTICES.labels(channel, "failed").inc()
    log.warning(
        "notice %s to unit %s by %s failed for good: %s",
        notice.id,
        notice.police_unit_code,
        channel,
        message,
    )
    return notice.state


def release(
    session: Session,
    notice_ids: Sequence[int] | Mapping[int, int],
    *,
    until: datetime | None = None,
) -> None:
    """Give back claimed notices that were not tried (the worker is stopping, or their
    receiver just failed): due again at ``until`` (default now), and the attempt not counted.
    Given ``{id: attempt}``, only the claims still this worker's are given back."""
    claims = notice_ids if isinstance(notice_ids, Mapping) else None
    for notice in session.scalars(
        select(Notification).where(
            Notification.id.in_(list(notice_ids)), Notification.state == NotificationState.PENDING
        )
    ):
        if claims is not None and notice.attempts != claims[notice.id]:
            continue
        notice.attempts = max(notice.attempts - 1, 0)
        notice.next_attempt_at = until or utcnow()


def retry_now(
    session: Session,
    notice: Notification,
    *,
    actor: str,
    actor_id: int | None,
    give_up_after: timedelta,
) -> None:
    """An admin sends a failed or waiting notice again now, with a fresh give-up period.
    Audited."""
    if notice.state is NotificationState.DELIVERED:
        raise NotificationError(f"notice {notice.id} was delivered already")
    before = notice.state
    now = utcnow()
    notice.state = NotificationState.PENDING
    notice.next_attempt_at = now
    notice.give_up_at = now + give_up_after
    session.flush()
    audit(
        session,
        action="notification.retry",
        actor=actor,
        actor_id=actor_id,
        target=f"notification:{notice.id}",
        details={
            "incident_id": notice.incident_id,
            "unit": notice.police_unit_code,
            "channel": notice.channel.value,
            "was": before.value,
        },
    )


# ---------------------------------------------------------------------------------------------
# The delivery worker


@dataclass
class _Channels:
    webhook: WebhookChannel
    mqtt: MqttChannel | None
    secrets: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(unit code, URL) → the webhook's shared secret."""


@dataclass(frozen=True)
class _Claim:
    id: int
    attempt: int
    """The notice's attempt count once claimed: while the row still has it, the claim is ours."""
    channel: NotificationChannel
    unit_code: str
    target: str
    payload: dict[str, Any]

    @property
    def receiver(self) -> tuple[NotificationChannel, str]:
        """Who receives it: the webhook URL, or the broker (every topic shares one connection)."""
        return (self.channel, self.target if self.channel is NotificationChannel.WEBHOOK else "")


class NotificationDispatcher:
    """Delivers due notices from the outbox: a thread claims them, and a pool of ``workers``
    threads delivers them, one receiver per thread at a time (its notices in order), so a slow
    or dead receiver holds up only its own notices. Several dispatchers may run against one
    PostgreSQL database (claims skip each other's rows)."""

    BATCH = 20

    def __init__(
        self,
        settings: NotificationSettings,
        database: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._database = database
        self._clock = clock
        self._policy = RetryPolicy(settings.retry_initial_seconds, settings.retry_max_seconds)
        self._claim_for = timedelta(seconds=settings.claim_seconds)
        mqtt = (
            MqttChannel(settings.mqtt, timeout=settings.timeout_seconds)
            if settings.mqtt.host
            else None
        )
        self._channels = _Channels(
            webhook=WebhookChannel(timeout=settings.timeout_seconds),
            mqtt=mqtt,
            secrets={
                (code, hook.url): hook.secret.get_secret_value()
                for code, hooks in settings.webhooks.items()
                for hook in hooks
            },
        )
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._busy: set[tuple[NotificationChannel, str]] = set()
        """Receivers with claimed notices in this process: not claimed for again meanwhile."""
        self._changed = threading.Condition()
        notify_through(database.sessions, settings)

    def start(self) -> None:
        self._warn_unknown_units()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="notification-dispatcher", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Finish the notices being sent, give back the rest of the claimed ones, and stop."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._channels.mqtt is not None:
            self._channels.mqtt.close()

    def deliver_due(self) -> int:
        """One pass, waited for: claim due notices and try them (each receiver's on a thread of
        its own). Returns how many were tried."""
        _, running = self._hand_out()
        return sum(future.result() for future in running)

    def _hand_out(self) -> tuple[int, list[Future[int]]]:
        """Claim due notices, except for receivers this process is busy with, and hand each
        receiver's to the pool. How many were claimed, and the deliveries under way."""
        with self._changed:
            busy = set(self._busy)
        channels = [NotificationChannel.WEBHOOK]
        if self._channels.mqtt is not None and (NotificationChannel.MQTT, "") not in busy:
            channels.append(NotificationChannel.MQTT)
        with self._database.session() as session:
            claimed = [
                _Claim(
                    notice.id,
                    notice.attempts,
                    notice.channel,
                    notice.police_unit_code,
                    notice.target,
                    notice.payload,
                )
                for notice in claim_due(
                    session,
                    channels=channels,
                    now=self._clock(),
                    claim_for=self._claim_for,
                    limit=self.BATCH,
                    skip_targets=[
                        target for channel, target in busy if channel is NotificationChannel.WEBHOOK
                    ],
                )
            ]
        by_receiver: dict[tuple[NotificationChannel, str], list[_Claim]] = {}
        for claim in claimed:
            by_receiver.setdefault(claim.receiver, []).append(claim)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self._settings.workers, thread_name_prefix="notification-delivery"
            )
        running = []
        for receiver, claims in by_receiver.items():
            with self._changed:
                self._busy.add(receiver)
            running.append(self._pool.submit(self._deliver_to, receiver, claims))
        return len(claimed), running

    def _deliver_to(self, receiver: tuple[NotificationChannel, str], claims: list[_Claim]) -> int:
        """Try one receiver's claimed notices in order; how many were tried. After a failure
        that may pass (no answer, 5xx), the rest are given back untried to wait the first retry
        delay: a dead receiver costs one timeout per pass, not one per notice."""
        tried = 0
        try:
            for index, claim in enumerate(claims):
                rest = claims[index + 1 :]
                if self._stopping.is_set():
                    self._give_back(claims[index:])
                    break
                with self._database.session() as session:
                    ours = extend_claim(
                        session,
                        claim.id,
                        claim.attempt,
                        now=self._clock(),
                        claim_for=self._claim_for,
                    )
                if not ours:
                    continue
                failure = self._attempt(claim)
                tried += 1
                with self._database.session() as session:
                    record_outcome(
                        session,
                        claim.id,
                        failure,
                        policy=self._policy,
                        now=self._clock(),
                        attempt=claim.attempt,
                    )
                if failure is not None and failure.retry and rest:
                    wait = timedelta(seconds=self._settings.retry_initial_seconds)
                    self._give_back(rest, until=self._clock() + wait)
                    break
        except Exception:  # the database is away: the claims run out and are taken again
            log.exception("notification dispatcher: cannot record deliveries to %s", receiver[1])
        finally:
            with self._changed:
                self._busy.discard(receiver)
                self._changed.notify_all()
        return tried

    def _give_back(self, claims: Sequence[_Claim], *, until: datetime | None = None) -> None:
        with self._database.session() as session:
            release(session, {claim.id: claim.attempt for claim in claims}, until=until)

    def _attempt(self, claim: _Claim) -> DeliveryFailed | None:
        body = notice_body(claim.payload, claim.id)
        try:
            if claim.channel is NotificationChannel.MQTT:
                assert self._channels.mqtt is not None  # only claimed when configured
                self._channels.mqtt.deliver(claim.target, body)
            else:
                secret = self._channels.secrets.get((claim.unit_code, claim.target))
                if secret is None:
                    return DeliveryFailed(
                        f"no webhook {claim.target} is configured for unit {claim.unit_code} "
                        "any more",
                        retry=False,
                    )
                self._channels.webhook.deliver(claim.target, secret, body, claim.id)
        except DeliveryFailed as failure:
            return failure
        except Exception as exc:  # a bug or an odd library error must not stop the worker
            log.exception("notice %s: unexpected error while delivering", claim.id)
            return DeliveryFailed(f"unexpected error: {type(exc).__name__}", retry=True)
        return None

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._changed:  # claim only when a delivery thread is free
                while len(self._busy) >= self._settings.workers and not self._stopping.is_set():
                    self._changed.wait(self._settings.poll_seconds)
            if self._stopping.is_set():
                return
            try:
                claimed, _ = self._hand_out()
            except Exception:
                log.exception("notification dispatcher: cannot read the outbox; trying again")
                claimed = 0
            if claimed < self.BATCH:
                self._stopping.wait(self._settings.poll_seconds)

    def _warn_unknown_units(self) -> None:
        if not self._settings.webhooks:
            return
        with self._database.session() as session:
            known = set(session.scalars(select(PoliceUnit.code)))
        for code in sorted(set(self._settings.webhooks) - known):
            log.warning("notifications: webhooks are configured for unknown police unit %s", code)
