"""Operator shifts, their handovers, and the SLA escalations sent to a shift's supervisor.

Names are stored next to user links (``supervisor``, ``written_by``…): the shift log keeps
saying who did what after a user row is deleted and its link set to NULL.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime, str_enum


class SlaStage(enum.StrEnum):
    """The stage whose clock ran out (the same four the SLA figures measure)."""

    ACKNOWLEDGE = "acknowledge"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    ARRIVE = "arrive"


class Shift(Base):
    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, index=True, doc="NULL while the shift is on; at most one shift is on."
    )
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    supervisor: Mapped[str] = mapped_column(String(64), doc="The supervisor's user name.")
    started_by: Mapped[str] = mapped_column(String(64))

    operators: Mapped[list[ShiftOperator]] = relationship(
        back_populates="shift", order_by="ShiftOperator.id"
    )
    handover: Mapped[Handover | None] = relationship(
        foreign_keys="Handover.shift_id", back_populates="shift"
    )


class ShiftOperator(Base):
    """One stretch of a user on a shift; someone who leaves and comes back has two rows."""

    __tablename__ = "shift_operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    username: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shift: Mapped[Shift] = relationship(back_populates="operators")


class Handover(Base):
    """Written when a shift ends: what was still open then, carried over to the next shift,
    with the outgoing supervisor's note; the incoming supervisor acknowledges it."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(
        ForeignKey("shifts.id", ondelete="CASCADE"), unique=True, doc="The outgoing shift."
    )
    next_shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("shifts.id", ondelete="SET NULL"),
        index=True,
        doc="The incoming shift, set when it starts.",
    )
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    written_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    open_alerts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON,
        doc="The alerts still new or acknowledged when the shift ended, as they were then: the "
        "first ``HANDOVER_LIST`` (shifts.py) by priority, then id.",
    )
    open_alert_count: Mapped[int] = mapped_column(
        Integer, doc="How many alerts were open then (``open_alerts`` may list fewer)."
    )
    open_incidents: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON,
        doc="The incidents not resolved or closed when the shift ended, as they were then: the "
        "first ``HANDOVER_LIST`` by priority, then id.",
    )
    open_incident_count: Mapped[int] = mapped_column(
        Integer, doc="How many incidents were open then (``open_incidents`` may list fewer)."
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))

    shift: Mapped[Shift] = relationship(foreign_keys=[shift_id], back_populates="handover")


class Escalation(Base):
    """An alert or incident that overran a stage's time limit, sent to the supervisor on shift.

    One per (alert, stage), and one per incident clock: an incident's clock starts at the
    transition into the status it waits in (``clock_event_id``), so a rejected incident's new
    wait for dispatch, and a second unit's silence after a re-dispatch, escalate again.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("alert_id", "stage"),
        UniqueConstraint("incident_id", "stage", "clock_event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[SlaStage] = mapped_column(str_enum(SlaStage, "sla_stage"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    clock_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_events.id", ondelete="CASCADE"),
        doc="The incident's transition that started the clock (the opening or a rejection for "
        "dispatch, the dispatch for accept, the acceptance for arrive); NULL for an alert.",
    )
    priority: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="When the time limit ran out.")
    threshold_seconds: Mapped[float] = mapped_column(Float)
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id", ondelete="SET NULL"))
    supervisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"),
        doc="The supervisor it went to; NULL when no shift was on.",
    )
    supervisor: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
