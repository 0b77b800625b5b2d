"""What the city API sends and accepts (kept apart from the ORM models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.bounds import Id, Latitude, Line, Longitude, Paragraph
from safecity.city.models import CameraHealth, CameraStatus, SiteKind
from safecity.video.models import StreamStatus


class DistrictOut(BaseModel):
    id: int
    code: str
    name: str
    population: int | None
    geometry: dict[str, Any] = Field(description="GeoJSON polygon, WGS 84 lon/lat")
    camera_count: int = Field(description="Cameras in this district that you may see")
    in_scope: bool = Field(description="Whether your role covers this district")


class SiteSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: SiteKind


class SiteOut(SiteSummary):
    address: str | None
    latitude: float
    longitude: float
    district_id: int
    district_name: str
    owner: str | None
    schedule: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    camera_count: int


class SitePage(BaseModel):
    items: list[SiteOut]
    total: int


class CameraOut(BaseModel):
    id: int
    code: str
    name: str
    address: str | None
    latitude: float
    longitude: float
    district_id: int
    district_name: str
    site: SiteSummary | None
    status: CameraStatus
    health: CameraHealth
    last_seen_at: datetime | None
    vendor: str | None
    model: str | None
    firmware: str | None
    installed_at: date | None


class StreamHealth(BaseModel):
    """What ingest last measured of the camera's stream (``camera_streams``)."""

    model_config = ConfigDict(from_attributes=True)

    status: StreamStatus
    detail: str | None = Field(description="The last problem, in plain words")
    fps: float
    bitrate_kbps: float
    width: int | None
    height: int | None
    codec: str | None = Field(description="FFmpeg's name: h264 or hevc")
    last_packet_at: datetime | None
    connected_since: datetime | None
    reconnects: int
    gaps: int = Field(description="Breaks in the recording")
    recording: bool
    updated_at: datetime = Field(description="When ingest last reported")


class CameraDetail(CameraOut):
    main_stream_url: str
    sub_stream_url: str | None
    stream: StreamHealth | None = Field(
        default=None, description="The stream's health; null when it was never ingested"
    )


class CameraPage(BaseModel):
    items: list[CameraOut]
    total: int
    limit: int
    offset: int


class CameraPoint(BaseModel):
    """A camera as the map draws it: small, so 10,000 of them load at once."""

    id: int
    code: str
    name: str
    lat: float
    lon: float
    status: CameraStatus
    health: CameraHealth
    district_id: int


class CameraUpdate(BaseModel):
    """Fields an administrator may change; the district follows the position."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(default=None, min_length=1, max_length=200)
    address: Paragraph | None = Field(default=None, max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    status: CameraStatus | None = None
    site_id: Id | None = None
    vendor: Line | None = Field(default=None, max_length=100)
    model: Line | None = Field(default=None, max_length=100)
    firmware: Line | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _required_fields_not_cleared(self) -> CameraUpdate:
        cleared = [
            name
            for name in ("name", "latitude", "longitude", "status")
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be empty")
        return self


class PoliceUnitOut(BaseModel):
    id: int
    code: str
    name: str
    phone: str | None
    is_fallback: bool
    district_ids: list[int]
