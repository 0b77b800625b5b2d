"""The outbox's rows, from claimed to settled: what a delivery worker (``notifications``) and
an administrator (``retry_now``) do to them.

A claim is counted as an attempt and renewed right before it, only while it is still this
worker's (the row's attempt count is the proof), so it never runs out under a live worker. A
worker that dies holding one leaves the row to be claimed again when the claim runs out. An
outcome is stored as delivered; failed for good (refused, or still undelivered at
``give_up_at``); or due again later, waiting longer each time.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.core.backoff import Backoff
from safecity.core.clock import utcnow
from safecity.ops.dispatch.channels import DeliveryFailed
from safecity.ops.dispatch.models import Notification, NotificationChannel, NotificationState

log = logging.getLogger(__name__)

NOTICES = Counter(
    "safecity_notifications_total",
    "Delivery attempts of dispatch notifications, by channel and outcome "
    "(delivered, retried, failed)",
    ["channel", "outcome"],
)

# Makes SQLite take its write lock before the due rows are read (as the audit log does), so
# two claimers cannot take the same row; PostgreSQL uses FOR UPDATE SKIP LOCKED instead.
_SQLITE_TAKE_WRITE_LOCK = text("UPDATE notifications SET id = id WHERE 0 = 1")


class NotificationError(ValueError):
    """A request about a notice that cannot be met (answered 409)."""


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
