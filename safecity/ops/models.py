"""Alerts, incidents and the incident's event history as SafeCity stores them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.city.models import Camera
from safecity.core.clock import utcnow
from safecity.ops.incident_types.models import ChecklistVersion
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.store.base import Base, UTCDateTime, str_enum


class AlertSource(enum.StrEnum):
    MANUAL = "manual"
    CAMERA_HEALTH = "camera_health"
    ANALYTICS = "analytics"
    EXTERNAL = "external"


class AlertStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISMISSED = "dismissed"
    IN_INCIDENT = "in_incident"


class IncidentEventKind(enum.StrEnum):
    TRANSITION = "transition"
    NOTE = "note"
    SOP_STEP = "sop_step"
    EVIDENCE = "evidence"  # an attachment added or deleted, a clip linked or unlinked
    ESCALATION = "escalation"


incident_cameras = Table(
    "incident_cameras",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("camera_id", ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True),
)


incident_checklists = Table(
    "incident_checklists",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "checklist_id",
        ForeignKey("incident_type_checklists.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
)
"""The version of its type's SOP checklist each incident was opened with, and keeps. A table
of its own rather than a column of ``incidents``: SQLite can add a NOT NULL reference only by
rebuilding the table, and with foreign keys on, the rebuild would cascade-delete the
incidents' events and links."""


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, doc='Like "2026-000123".')
    type_code: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[int] = mapped_column(Integer, doc="1 most urgent … 4 least.")
    status: Mapped[IncidentStatus] = mapped_column(
        str_enum(IncidentStatus, "incident_status"), default=IncidentStatus.NEW, index=True
    )
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    police_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("police_units.id", ondelete="RESTRICT"),
        index=True,
        doc="Set when dispatched; the unit whose duty officer's queue it is in.",
    )
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(Text)

    checklist: Mapped[ChecklistVersion] = relationship(secondary=incident_checklists, uselist=False)
    cameras: Mapped[list[Camera]] = relationship(secondary=incident_cameras)
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id"
    )


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # Folding reads the latest alert of a key, grouping the recent alerts of a kind: both
        # a short range of last_at under an equality, whatever the size of the table.
        Index("ix_alerts_dedup_key_last_at", "dedup_key", "last_at"),
        Index("ix_alerts_kind_last_at", "kind", "last_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[AlertSource] = mapped_column(str_enum(AlertSource, "alert_source"))
    camera_id: Mapped[int | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="SET NULL"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[AlertStatus] = mapped_column(
        str_enum(AlertStatus, "alert_status"), default=AlertStatus.NEW, index=True
    )
    dedup_key: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer, default=1, doc="Repeats folded into this alert.")
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"),
        index=True,
        doc="The first alert of the same kind nearby (see ops/grouping.py); NULL: alone.",
    )
    group_key: Mapped[str | None] = mapped_column(String(100), index=True)

    incident: Mapped[Incident | None] = relationship()


class IncidentEvent(Base):
    """One thing that happened to an incident: a transition, a note or an SOP step."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[IncidentEventKind] = mapped_column(
        str_enum(IncidentEventKind, "incident_event_kind")
    )
    from_status: Mapped[IncidentStatus | None] = mapped_column(
        str_enum(IncidentStatus, "incident_status")
    )
    to_status: Mapped[IncidentStatus | None] = mapped_column(
        str_enum(IncidentStatus, "incident_status")
    )
    text: Mapped[str | None] = mapped_column(Text, doc="The reason, the note or the skip reason.")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events")
