"""Incident types as stored: one row per type, one row per version of its checklist.

A checklist is never edited in place: an edit adds the next version, and each incident points
at the version it was opened with, so its SOP does not change under the operator working it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.city.crime_register import CrimeKind
from safecity.core.clock import utcnow
from safecity.ops.incident_types import IncidentType
from safecity.store.base import Base, UTCDateTime, str_enum


class StoredIncidentType(Base):
    __tablename__ = "incident_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    default_priority: Mapped[int] = mapped_column(Integer, doc="1 most urgent … 4 least.")
    crime_kind: Mapped[CrimeKind | None] = mapped_column(
        str_enum(CrimeKind, "crime_kind"), doc="The crime register kind; NULL: not a crime."
    )
    active: Mapped[bool] = mapped_column(
        Boolean, default=True, doc="Offered for new incidents; false: retired."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    checklists: Mapped[list[ChecklistVersion]] = relationship(
        back_populates="incident_type",
        order_by="ChecklistVersion.version",
        cascade="all, delete-orphan",
    )

    @property
    def checklist(self) -> ChecklistVersion:
        """The current version: what a new incident of this type gets."""
        return self.checklists[-1]

    def as_type(self) -> IncidentType:
        return IncidentType(
            code=self.code,
            name=self.name,
            default_priority=self.default_priority,
            crime_kind=self.crime_kind,
            checklist=tuple(self.checklist.steps),
            active=self.active,
        )


class ChecklistVersion(Base):
    __tablename__ = "incident_type_checklists"
    __table_args__ = (UniqueConstraint("type_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer, doc="1, 2, … per type.")
    steps: Mapped[list[str]] = mapped_column(JSON, doc="The SOP steps, in order.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), doc="Who wrote this version.")

    incident_type: Mapped[StoredIncidentType] = relationship(back_populates="checklists")
