"""What the city administration API accepts and sends: districts, organizations, police units
and sites as an administrator edits them, each keyed by the same code as in the city folder."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, Field, StringConstraints, model_validator

from safecity.bounds import Latitude, Line, Longitude, Paragraph
from safecity.city.models import OrganizationKind, SiteKind
from safecity.city.schedule import SiteTask, WatchWindow

Code = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", min_length=1, max_length=64),
    Field(description="The city's own code, as in the city folder; it never changes."),
]
Name = Annotated[Line, Field(min_length=1, max_length=200)]
Geometry = Annotated[
    dict[str, Any],
    Field(
        description="GeoJSON Polygon or MultiPolygon in WGS 84 longitude/latitude",
        json_schema_extra={"example": {"type": "Polygon", "coordinates": [[[71.3, 51.1]]]}},
    ),
]
Population = Annotated[int, Field(ge=0, le=2**31 - 1)]
Phone = Annotated[Line, Field(max_length=64)]
Address = Annotated[Paragraph, Field(max_length=300)]
RetentionDays = Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)]
RetentionBytes = Annotated[int, Field(ge=1, le=2**62)]


class DistrictIn(BaseModel):
    code: Code
    name: Name
    population: Population | None = None
    geometry: Geometry


class DistrictOutline(BaseModel):
    code: Code
    geometry: Geometry


class _Change(BaseModel):
    """A PATCH body: only the fields sent change; ``null`` clears only a field that may be
    empty (``nullable``), and is refused for the others rather than failing in the database."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _null_only_where_a_field_may_be_empty(self) -> Self:
        for name in sorted(self.model_fields_set):
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} may not be null: leave it out to keep it as it is")
        return self


class DistrictChange(_Change):
    """Only the fields sent change. A new outline moves cameras and sites across the border."""

    nullable = frozenset({"population"})

    name: Name | None = None
    population: Population | None = None
    geometry: Geometry | None = None


class DistrictAdminOut(BaseModel):
    id: int
    code: str
    name: str
    population: int | None
    geometry: dict[str, Any]
    active: bool


class OrganizationIn(BaseModel):
    code: Code
    name: Name
    kind: OrganizationKind
    district_code: Code | None = Field(
        default=None, description="For a district akimat: the district it administers."
    )
    city_wide: bool = Field(default=False, description="The city akimat: sees the whole city.")


class OrganizationChange(_Change):
    nullable = frozenset({"district_code"})

    name: Name | None = None
    kind: OrganizationKind | None = None
    district_code: Code | None = None
    city_wide: bool | None = None


class OrganizationAdminOut(BaseModel):
    id: int
    code: str
    name: str
    kind: OrganizationKind
    district_code: str | None
    city_wide: bool
    active: bool


class PoliceUnitIn(BaseModel):
    code: Code
    name: Name
    organization_code: Code = Field(description="The police organization the unit belongs to.")
    phone: Phone | None = None
    district_codes: list[Code] = Field(default_factory=list, max_length=1000)
    fallback: bool = Field(default=False, description="Takes what no other unit covers.")


class PoliceUnitChange(_Change):
    nullable = frozenset({"phone"})

    name: Name | None = None
    organization_code: Code | None = None
    phone: Phone | None = None
    district_codes: list[Code] | None = Field(default=None, max_length=1000)
    fallback: bool | None = None


class PoliceUnitAdminOut(BaseModel):
    id: int
    code: str
    name: str
    organization_code: str
    phone: str | None
    district_codes: list[str]
    fallback: bool
    active: bool


class SiteIn(BaseModel):
    """A site is a point (latitude and longitude) or an area (a polygon), not both."""

    code: Code
    name: Name
    kind: SiteKind
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    area: Geometry | None = None
    owner_code: Code | None = Field(default=None, description="The organization that owns it.")
    schedule: list[WatchWindow] = Field(default_factory=list, max_length=50)
    tasks: list[SiteTask] = Field(default_factory=list, max_length=50)
    retention_days: RetentionDays | None = None
    retention_bytes: RetentionBytes | None = None

    @model_validator(mode="after")
    def _a_point_or_an_area(self) -> SiteIn:
        point = self.latitude is not None and self.longitude is not None
        if point == (self.area is not None) or (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude, or an area, not both")
        return self


class SiteChange(_Change):
    """Only the fields sent change; a point replaces an area and an area replaces a point."""

    nullable = frozenset(
        {
            "address",
            "latitude",
            "longitude",
            "area",
            "owner_code",
            "retention_days",
            "retention_bytes",
        }
    )

    name: Name | None = None
    kind: SiteKind | None = None
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    area: Geometry | None = None
    owner_code: Code | None = None
    schedule: list[WatchWindow] | None = Field(default=None, max_length=50)
    tasks: list[SiteTask] | None = Field(default=None, max_length=50)
    retention_days: RetentionDays | None = None
    retention_bytes: RetentionBytes | None = None

    @model_validator(mode="after")
    def _a_point_or_an_area(self) -> SiteChange:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together")
        if self.latitude is not None and self.area is not None:
            raise ValueError("give latitude and longitude, or an area, not both")
        return self


class SiteAdminOut(BaseModel):
    id: int
    code: str
    name: str
    kind: SiteKind
    address: str | None
    latitude: float
    longitude: float
    area: dict[str, Any] | None
    district_code: str
    owner_code: str | None
    schedule: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    retention_days: float | None
    retention_bytes: int | None
    active: bool


class MoveOut(BaseModel):
    what: str = Field(description="camera or site")
    code: str
    name: str
    before: str = Field(description="The district it was in")
    after: str | None = Field(description="The district it is in now; null: kept outside all")


Item = TypeVar("Item")


class CityChange(BaseModel, Generic[Item]):
    """A change and what it moved: cameras and sites whose district changed with a border."""

    item: Item
    moved: list[MoveOut] = Field(default_factory=list)
    kept_outside: list[MoveOut] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
