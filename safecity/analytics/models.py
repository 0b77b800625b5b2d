"""The analytics' tables: rules and privacy masks as the console draws them, the events the
rules raised (what forensic search reads), and the counts of people and vehicles.

A rule belongs to one camera or to one site (then it applies to each of the site's cameras).
Its ``definition`` is the rule as :mod:`safecity.analytics.rules.definitions` dumps it; the
``kind``, ``name`` and ``enabled`` columns repeat what it says so that queries need not read
the JSON. Events keep the rule's name and kind as they were, so an event still reads right
after its rule is changed or deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.city.models import Camera, Site
from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime

MAX_NAME = 100
"""A rule's name, as definitions.py bounds it."""


class AnalyticsRule(Base):
    __tablename__ = "analytics_rules"
    __table_args__ = (
        CheckConstraint("(camera_id IS NULL) <> (site_id IS NULL)", name="one_target"),
        UniqueConstraint("camera_id", "name"),
        UniqueConstraint("site_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), doc="Set for a camera's own rule."
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"),
        doc="Set for a site's rule: it applies to each of the site's cameras.",
    )
    position: Mapped[int] = mapped_column(Integer, doc="Its place in the document, from 0.")
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    kind: Mapped[str] = mapped_column(String(32), doc="definitions.RuleKind")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The rule as its model dumps it.")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), doc="The username of the last change.")


class CameraMasks(Base):
    """A camera's privacy masks: blacked out before motion and detection, and on snapshots."""

    __tablename__ = "analytics_camera_masks"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    polygons: Mapped[list[list[list[float]]]] = mapped_column(
        JSON, doc="Polygons of (x, y) points in picture shares (0..1)."
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class AnalyticsEvent(Base):
    """What a rule saw: one event per track per rule (a tamper check: one per onset)."""

    __tablename__ = "analytics_events"
    __table_args__ = (
        Index("ix_analytics_events_camera_id_at", "camera_id", "at"),
        Index("ix_analytics_events_district_id_at", "district_id", "at"),
        Index("ix_analytics_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), doc="The camera's site when it was seen."
    )
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"),
        doc="The camera's district when it was seen.",
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, doc="When the rule fired.")
    started_at: Mapped[datetime] = mapped_column(
        UTCDateTime, doc="When what it saw began (the track entered, the tamper began)."
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("analytics_rules.id", ondelete="SET NULL"), index=True
    )
    rule_name: Mapped[str] = mapped_column(String(MAX_NAME))
    kind: Mapped[str] = mapped_column(String(32), doc="definitions.RuleKind")
    object_class: Mapped[str | None] = mapped_column(
        String(32), doc="objects.ObjectClass; empty for tamper."
    )
    track_id: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    boxes: Mapped[list[list[float]]] = mapped_column(
        JSON, doc="[x1, y1, x2, y2] in pixels of the detect frame, the best one first."
    )
    frame_size: Mapped[list[int]] = mapped_column(JSON, doc="[width, height] of the detect frame.")
    snapshot: Mapped[str | None] = mapped_column(
        String(300), doc="The best snapshot (JPEG), relative to the media folder."
    )
    clip_start: Mapped[datetime] = mapped_column(UTCDateTime)
    clip_end: Mapped[datetime] = mapped_column(UTCDateTime)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"),
        index=True,
        doc="The OCC's alert raised for it, or folded with it.",
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    camera: Mapped[Camera] = relationship()
    site: Mapped[Site | None] = relationship()


class TrafficCount(Base):
    """People and vehicles counted per camera, zone or line, per 15 minutes (``bin_start``)."""

    __tablename__ = "traffic_counts"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    bin_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    scope: Mapped[str] = mapped_column(
        String(8), primary_key=True, doc="camera, zone or line: what was counted."
    )
    scope_name: Mapped[str] = mapped_column(
        String(MAX_NAME), primary_key=True, doc="The zone's or line's rule name; '' for camera."
    )
    object_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(
        String(8), primary_key=True, doc="A line's forward or backward; '' otherwise."
    )
    count: Mapped[int] = mapped_column(Integer)
