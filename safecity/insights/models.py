"""Crime records: the figures the programme is judged by."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.city.models import District
from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime, str_enum


class CrimeKind(enum.StrEnum):
    THEFT = "theft"
    ROBBERY = "robbery"
    ASSAULT = "assault"
    HOOLIGANISM = "hooliganism"
    VANDALISM = "vandalism"
    FRAUD = "fraud"
    DRUGS = "drugs"
    VEHICLE_THEFT = "vehicle_theft"
    OTHER = "other"


class CrimeRecord(Base):
    __tablename__ = "crime_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, doc="The police register's number.")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[CrimeKind] = mapped_column(str_enum(CrimeKind, "crime_kind"))
    public_place: Mapped[bool] = mapped_column(doc="Committed in a public place (street, park…).")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District] = relationship()
