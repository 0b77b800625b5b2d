"""The city as SafeCity stores it: districts, organizations, police units, sites and cameras.

Geometry is kept as GeoJSON (WGS 84 lon/lat) so the same schema runs on SQLite and PostgreSQL;
spatial questions are answered in Python with shapely (see ``safecity.city.geo``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime, str_enum


class OrganizationKind(enum.StrEnum):
    AKIMAT = "akimat"
    POLICE = "police"
    UTILITY = "utility"
    OPERATOR_CENTER = "operator_center"
    OTHER = "other"


class SiteKind(enum.StrEnum):
    PARK = "park"
    SCHOOL = "school"
    YARD = "yard"
    UTILITY_FACILITY = "utility_facility"
    TRANSPORT_HUB = "transport_hub"
    MARKET = "market"
    STREET = "street"
    SQUARE = "square"
    HOSPITAL = "hospital"
    OTHER = "other"


class CameraStatus(enum.StrEnum):
    """Where a camera is in its life, set by people (health is measured separately)."""

    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    PLANNED = "planned"
    DECOMMISSIONED = "decommissioned"


class CameraHealth(enum.StrEnum):
    """What the stream last told us, set by the ingest side."""

    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"


class District(Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    population: Mapped[int | None] = mapped_column(Integer)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON, doc="GeoJSON Polygon/MultiPolygon")
    active: Mapped[bool] = mapped_column(
        default=True,
        server_default=true(),
        doc="A deactivated district locates nothing (its area must have gone to others first) and is kept for the records that name it.",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


police_unit_districts = Table(
    "police_unit_districts",
    Base.metadata,
    Column("police_unit_id", ForeignKey("police_units.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True),
)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganizationKind] = mapped_column(str_enum(OrganizationKind, "organization_kind"))
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"),
        doc="For a district akimat: the district it administers.",
    )
    city_wide: Mapped[bool] = mapped_column(
        default=False,
        server_default=false(),
        doc="Administers the whole city (the city akimat). Stated, never inferred from an "
        "empty district, so a deleted district can never widen anyone's view.",
    )
    active: Mapped[bool] = mapped_column(
        default=True,
        server_default=true(),
        doc="A deactivated organization is kept for the records that name it.",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District | None] = relationship()


class PoliceUnit(Base):
    """A police department unit; it takes incidents in the districts it covers."""

    __tablename__ = "police_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    phone: Mapped[str | None] = mapped_column(String(64))
    is_fallback: Mapped[bool] = mapped_column(default=False, doc="Takes what no other unit covers.")
    active: Mapped[bool] = mapped_column(
        default=True,
        server_default=true(),
        doc="A deactivated unit is dispatched nothing.",
    )

    organization: Mapped[Organization] = relationship()
    districts: Mapped[list[District]] = relationship(secondary=police_unit_districts)


class Site(Base):
    """An object under watch (park, school, yard, utility facility…) with its own tasks."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, "site_kind"))
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    area: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="GeoJSON (Multi)Polygon of a site drawn as an area; its point lies inside it."
    )
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    owner_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="Watch windows, see safecity.city.schedule.WatchWindow"
    )
    tasks: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="What to watch for here, see safecity.city.schedule.SiteTask"
    )
    retention_days: Mapped[float | None] = mapped_column(
        Float, doc="Keep its cameras' recordings this long; empty = the global setting."
    )
    retention_bytes: Mapped[int | None] = mapped_column(
        BigInteger, doc="At most this much recording per camera; empty = no quota."
    )
    active: Mapped[bool] = mapped_column(
        default=True,
        server_default=true(),
        doc="A deactivated site is no longer watched; its cameras stay where they are.",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District] = relationship()
    owner: Mapped[Organization | None] = relationship()


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(
        String(64), unique=True, doc="The registry's camera id; imports update by it."
    )
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"),
        index=True,
        doc="Derived from the position by district polygon, never typed in.",
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), index=True
    )
    main_stream_url: Mapped[str] = mapped_column(
        Text, doc="With its password hidden (***); see safecity.city.stream_credentials."
    )
    main_stream_sealed: Mapped[str | None] = mapped_column(
        Text, doc="The whole URL, password included, encrypted; empty when it has none."
    )
    sub_stream_url: Mapped[str | None] = mapped_column(Text)
    sub_stream_sealed: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CameraStatus] = mapped_column(
        str_enum(CameraStatus, "camera_status"), default=CameraStatus.ACTIVE, index=True
    )
    installed_at: Mapped[date | None] = mapped_column(Date)
    vendor: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    firmware: Mapped[str | None] = mapped_column(String(100))
    health: Mapped[CameraHealth] = mapped_column(
        str_enum(CameraHealth, "camera_health"), default=CameraHealth.UNKNOWN
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retention_days: Mapped[float | None] = mapped_column(
        Float, doc="Keep its recordings this long; empty = its site's, else the global setting."
    )
    retention_bytes: Mapped[int | None] = mapped_column(
        BigInteger, doc="At most this much recording; empty = its site's quota, else none."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    district: Mapped[District] = relationship()
    site: Mapped[Site | None] = relationship()
