"""A request for a new camera, from the organization that asks to its installation.

submitted → under review → approved or rejected (with a reason) → installed (linked to the
camera that was put up). Each request belongs to the organization that made it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.city.models import Camera, District, Organization, Site
from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime, str_enum


class RequestStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    INSTALLED = "installed"


class Urgency(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CameraRequest(Base):
    __tablename__ = "camera_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(
        String(32), unique=True, doc="Shown to people: REQ-<year>-<number within the year>."
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"),
        index=True,
        doc="Who asks: a district akimat or the police.",
    )
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    latitude: Mapped[float | None] = mapped_column(Float, doc="The map point; or an address.")
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    justification: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "request_urgency"))
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus, "request_status"), default=RequestStatus.SUBMITTED, index=True
    )
    decision_reason: Mapped[str | None] = mapped_column(
        Text, doc="Why it was approved or rejected (required for a rejection)."
    )
    camera_id: Mapped[int | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="SET NULL"), doc="The camera installed for it."
    )
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    installed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()
    district: Mapped[District] = relationship()
    site: Mapped[Site | None] = relationship()
    camera: Mapped[Camera | None] = relationship()
