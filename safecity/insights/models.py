"""Crime records: the figures the programme is judged by.

A record comes from the police register (imported) or from an incident closed in the OCC whose
type names a crime-register kind. Its place kind follows the register's headings: crimes "on the
streets" are a part of crimes "in public places", which the programme reports as its headline.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import District
from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime, str_enum


class CrimeSource(enum.StrEnum):
    REGISTER = "register"
    """Imported from the police register (statistics file)."""
    OCC = "occ"
    """An incident closed in the OCC whose type names a crime-register kind."""


class CrimeRecord(Base):
    __tablename__ = "crime_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, doc="The police register's number.")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[CrimeKind] = mapped_column(str_enum(CrimeKind, "crime_kind"))
    place_kind: Mapped[PlaceKind] = mapped_column(str_enum(PlaceKind, "place_kind"))
    latitude: Mapped[float | None] = mapped_column(
        Float, doc="Null where the register gives only the district."
    )
    longitude: Mapped[float | None] = mapped_column(Float)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    solved: Mapped[bool] = mapped_column(default=False)
    solved_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="When it was solved, where the register says (a solved record may not)."
    )
    source: Mapped[CrimeSource] = mapped_column(
        str_enum(CrimeSource, "crime_source"), default=CrimeSource.REGISTER
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"),
        unique=True,
        doc="The OCC incident this record was counted from (source occ).",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District] = relationship()

    @property
    def public_place(self) -> bool:
        return self.place_kind.public
