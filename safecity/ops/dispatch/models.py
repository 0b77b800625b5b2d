"""The notifications outbox: one row per notice, channel and receiver.

Rows are written in the transaction that changes the incident, so a notice is never lost to a
crash; a delivery worker sends them and records the outcome on the row.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime, str_enum


class NotificationChannel(enum.StrEnum):
    MQTT = "mqtt"
    WEBHOOK = "webhook"


class NotificationState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Failed for good: refused by the receiver, or not delivered within the give-up age."""


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The delivery worker's question: which pending notices are due?
        Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        Integer, primary_key=True, doc="Sent as X-SafeCity-Delivery, so receivers drop repeats."
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_events.id", ondelete="SET NULL"),
        doc="The incident event the notice tells about.",
    )
    police_unit_code: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[NotificationChannel] = mapped_column(
        str_enum(NotificationChannel, "notification_channel")
    )
    target: Mapped[str] = mapped_column(String(2000), doc="The MQTT topic or the webhook URL.")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[NotificationState] = mapped_column(
        str_enum(NotificationState, "notification_state"), default=NotificationState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        default=utcnow,
        doc="When a worker may take it next; while one delivers it, the end of its claim.",
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(
        String(500), doc="Why the last attempt failed, in plain words (never a secret)."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    give_up_at: Mapped[datetime] = mapped_column(
        UTCDateTime, doc="Still undelivered after this, it fails for good (a retry renews it)."
    )
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
