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

This module is the delivery worker; ``notices`` writes the rows, ``outbox`` claims and settles
them, and ``channels`` carries them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from safecity.city.models import PoliceUnit
from safecity.core.clock import utcnow
from safecity.ops.dispatch.channels import (
    DeliveryFailed,
    MqttChannel,
    WebhookChannel,
    notice_body,
)
from safecity.ops.dispatch.models import NotificationChannel
from safecity.ops.dispatch.notices import notify_through
from safecity.ops.dispatch.outbox import (
    RetryPolicy,
    claim_due,
    extend_claim,
    record_outcome,
    release,
)
from safecity.settings import NotificationSettings
from safecity.store.engine import Database

log = logging.getLogger(__name__)


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
