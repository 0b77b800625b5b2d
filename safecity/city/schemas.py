"""What the city API sends and accepts (kept apart from the ORM models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from safecity.bounds import Day, Id, Latitude, Line, Longitude, Paragraph
from safecity.city.models import CameraHealth, CameraStatus, SiteKind
from safecity.city.registry.checking import camera_code_problem, url_problem
from safecity.video.models import StreamStatus


def _usable_stream_url(url: str) -> str:
    problem = url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


def _usable_camera_code(code: str) -> str:
    problem = camera_code_problem(code)
    if problem:
        raise ValueError(problem)
    return code


StreamUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="rtsp, rtsps, http, https or file URL, checked as an import checks it. "
        "A password in it is stored encrypted and shown as ***; the URL exactly as shown "
        "keeps the stored password.",
    ),
    AfterValidator(_usable_stream_url),
]
CameraCode = Annotated[
    str,
    Field(min_length=1, max_length=64, description="The registry's camera id (camera_id)."),
    AfterValidator(_usable_camera_code),
]
RetentionDays = Annotated[
    float,
    Field(
        gt=0,
        le=36500,
        allow_inf_nan=False,
        description="Keep its recordings this long; null = its site's, else the global setting.",
    ),
]
RetentionBytes = Annotated[
    int,
    Field(
        ge=1,
        le=2**63 - 1,
        description="At most this much recording; null = its site's quota, else none.",
    ),
]


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
    analytics: dict[str, float] | None = Field(
        default=None,
        description="What the camera's analytics measured: decode_fps, analysed_fps, "
        "skipped_fps, detector_ms, motion_share; null: not analysed",
    )
    updated_at: datetime = Field(description="When ingest last reported")


class CameraDetail(CameraOut):
    main_stream_url: str = Field(description="With its password hidden as ***")
    sub_stream_url: str | None = Field(description="With its password hidden as ***")
    retention_days: float | None
    retention_bytes: int | None
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


class CameraCreate(BaseModel):
    """A new camera; its district is the one its position lies in."""

    model_config = ConfigDict(extra="forbid")

    code: CameraCode
    name: Line = Field(min_length=1, max_length=200)
    address: Paragraph | None = Field(default=None, max_length=300)
    latitude: Latitude
    longitude: Longitude
    site_id: Id | None = Field(default=None, description="The site, by id; or give site_code")
    site_code: Line | None = Field(default=None, max_length=64, description="The site, by code")
    main_stream_url: StreamUrl
    sub_stream_url: StreamUrl | None = None
    status: CameraStatus = CameraStatus.ACTIVE
    installed_at: Day | None = None
    vendor: Line | None = Field(default=None, max_length=100)
    model: Line | None = Field(default=None, max_length=100)
    firmware: Line | None = Field(default=None, max_length=100)
    retention_days: RetentionDays | None = None
    retention_bytes: RetentionBytes | None = None

    @model_validator(mode="after")
    def _one_way_to_name_the_site(self) -> CameraCreate:
        if self.site_id is not None and self.site_code is not None:
            raise ValueError("give site_id or site_code, not both")
        return self


class CameraUpdate(BaseModel):
    """Fields an administrator may change; the district follows the position."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(default=None, min_length=1, max_length=200)
    address: Paragraph | None = Field(default=None, max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    status: CameraStatus | None = None
    site_id: Id | None = None
    main_stream_url: StreamUrl | None = None
    sub_stream_url: StreamUrl | None = None
    installed_at: Day | None = None
    vendor: Line | None = Field(default=None, max_length=100)
    model: Line | None = Field(default=None, max_length=100)
    firmware: Line | None = Field(default=None, max_length=100)
    retention_days: RetentionDays | None = None
    retention_bytes: RetentionBytes | None = None

    @model_validator(mode="after")
    def _required_fields_not_cleared(self) -> CameraUpdate:
        cleared = [
            name
            for name in ("name", "latitude", "longitude", "status", "main_stream_url")
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
