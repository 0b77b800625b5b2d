"""The city folder's files as typed entries: what each file says, checked row by row.

Pure. Each ``read_*`` takes a file's name and bytes and returns the entries it could read and
the problems of the rows it could not, so that one pass reports every fault of a file. What a
row says about other files (an owner code, a district code) is checked in ``checks``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from safecity.city.folder.tables import (
    Cells,
    Layout,
    Problem,
    Table,
    read_csv,
    read_features,
)
from safecity.city.models import OrganizationKind, SiteKind
from safecity.city.schedule import SiteTask, WatchWindow

DISTRICTS_FILE = "districts.geojson"
ORGANIZATIONS_FILE = "organizations.csv"
POLICE_UNITS_FILE = "police_units.csv"
SITES_CSV_FILE = "sites.csv"
SITES_GEOJSON_FILE = "sites.geojson"
CAMERAS_FILES = ("cameras.csv", "cameras.geojson")

NAME_LENGTH = 200
ADDRESS_LENGTH = 300
PHONE_LENGTH = 64

_CODE = ("id", "код", "коды")
_NAME = ("title", "название", "наименование", "атауы")
_ACTIVE = ("is_active", "активен", "белсенді")

DISTRICT_LAYOUT = Layout(
    fields=("code", "name", "population", "active"),
    required=frozenset({"code", "name"}),
    aliases={
        "code": _CODE,
        "name": _NAME,
        "population": ("население", "халық саны"),
        "active": _ACTIVE,
    },
)
ORGANIZATION_LAYOUT = Layout(
    fields=("code", "name", "kind", "district", "city_wide", "active"),
    required=frozenset({"code", "name", "kind"}),
    aliases={
        "code": _CODE,
        "name": _NAME,
        "kind": ("type", "тип", "вид", "түрі"),
        "district": ("district_code", "район", "аудан"),
        "city_wide": ("whole_city", "весь город", "бүкіл қала"),
        "active": _ACTIVE,
    },
)
POLICE_UNIT_LAYOUT = Layout(
    fields=("code", "name", "organization", "phone", "districts", "fallback", "active"),
    required=frozenset({"code", "name", "organization"}),
    aliases={
        "code": _CODE,
        "name": _NAME,
        "organization": ("organization_code", "организация", "ұйым"),
        "phone": ("telephone", "телефон"),
        "districts": ("district_codes", "covers", "районы", "аудандар"),
        "fallback": ("is_fallback", "city_fallback", "резерв"),
        "active": _ACTIVE,
    },
)
SITE_LAYOUT = Layout(
    fields=(
        "code",
        "name",
        "kind",
        "address",
        "latitude",
        "longitude",
        "owner",
        "schedule",
        "tasks",
        "retention_days",
        "retention_bytes",
        "active",
    ),
    required=frozenset({"code", "name", "kind"}),
    aliases={
        "code": _CODE,
        "name": _NAME,
        "kind": ("type", "тип", "вид", "түрі"),
        "address": ("адрес", "мекенжай"),
        "latitude": ("lat", "широта", "ендік"),
        "longitude": ("lon", "lng", "долгота", "бойлық"),
        "owner": ("owner_organization", "owner_code", "владелец", "иесі"),
        "schedule": ("watch_schedule", "расписание", "кесте"),
        "tasks": ("задачи", "міндеттер"),
        "active": _ACTIVE,
    },
)

_WINDOWS = TypeAdapter(list[WatchWindow])
_TASKS = TypeAdapter(list[SiteTask])


@dataclass(frozen=True)
class DistrictEntry:
    where: str
    code: str
    name: str
    population: int | None
    geometry: dict[str, Any]
    """As the file has it: a GeoJSON Polygon or MultiPolygon, WGS 84 lon/lat (checked later)."""
    active: bool = True


@dataclass(frozen=True)
class OrganizationEntry:
    where: str
    code: str
    name: str
    kind: OrganizationKind
    district_code: str | None
    city_wide: bool
    active: bool = True


@dataclass(frozen=True)
class PoliceUnitEntry:
    where: str
    code: str
    name: str
    organization_code: str
    phone: str | None
    district_codes: tuple[str, ...]
    fallback: bool
    active: bool = True


@dataclass(frozen=True)
class SiteEntry:
    where: str
    code: str
    name: str
    kind: SiteKind
    address: str | None
    latitude: float | None
    longitude: float | None
    """The site's point; None when it has an area, whose inner point is then used."""
    area: dict[str, Any] | None
    owner_code: str | None
    schedule: tuple[dict[str, Any], ...]
    tasks: tuple[dict[str, Any], ...]
    retention_days: float | None
    retention_bytes: int | None
    active: bool = True


Entry = TypeVar("Entry")


@dataclass(frozen=True)
class FileReading(Generic[Entry]):
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    ignored_columns: tuple[str, ...]


def _read_rows(table: Table, read_row: Callable[[Cells], Entry | None]) -> FileReading[Entry]:
    problems: list[Problem] = []
    entries: list[Entry] = []
    codes: dict[str, str] = {}
    for row in table.rows:
        if row.problem is not None:
            problems.append(Problem(row.file, row.where, "", row.problem))
            continue
        known = len(problems)
        cells = Cells(row, problems)
        entry = read_row(cells)
        code = getattr(entry, "code", None)
        if code is not None and code in codes:
            cells.note("code", f"{code!r} is also at {codes[code]}: each code once")
        elif code is not None:
            codes[code] = row.where
        if entry is not None and len(problems) == known:
            entries.append(entry)
    return FileReading(tuple(entries), tuple(problems), table.ignored_columns)


def read_districts(data: bytes) -> FileReading[DistrictEntry]:
    def read(cells: Cells) -> DistrictEntry | None:
        code = cells.code("code")
        name = cells.text("name", required=True, longest=NAME_LENGTH)
        population = cells.whole("population", highest=2**31 - 1)
        geometry = cells.row.geometry
        if not isinstance(geometry, dict) or geometry.get("type") not in (
            "Polygon",
            "MultiPolygon",
        ):
            shown = geometry.get("type") if isinstance(geometry, dict) else geometry
            cells.note("geometry", f"must be a Polygon or MultiPolygon, got {shown!r}")
            return None
        if code is None or name is None:
            return None
        return DistrictEntry(cells.row.where, code, name, population, geometry, _active(cells))

    return _read_rows(read_features(DISTRICTS_FILE, data, DISTRICT_LAYOUT), read)


def read_organizations(data: bytes) -> FileReading[OrganizationEntry]:
    def read(cells: Cells) -> OrganizationEntry | None:
        code = cells.code("code")
        name = cells.text("name", required=True, longest=NAME_LENGTH)
        kind = cells.choice("kind", OrganizationKind)
        district = cells.code("district", required=False)
        city_wide = cells.yes_no("city_wide")
        if code is None or name is None or kind is None:
            return None
        return OrganizationEntry(
            cells.row.where, code, name, kind, district, city_wide, _active(cells)
        )

    return _read_rows(read_csv(ORGANIZATIONS_FILE, data, ORGANIZATION_LAYOUT), read)


def read_police_units(data: bytes) -> FileReading[PoliceUnitEntry]:
    def read(cells: Cells) -> PoliceUnitEntry | None:
        code = cells.code("code")
        name = cells.text("name", required=True, longest=NAME_LENGTH)
        organization = cells.code("organization")
        phone = cells.text("phone", longest=PHONE_LENGTH)
        districts = cells.codes("districts")
        fallback = cells.yes_no("fallback")
        if code is None or name is None or organization is None:
            return None
        return PoliceUnitEntry(
            cells.row.where, code, name, organization, phone, districts, fallback, _active(cells)
        )

    return _read_rows(read_csv(POLICE_UNITS_FILE, data, POLICE_UNIT_LAYOUT), read)


def read_sites(file: str, data: bytes) -> FileReading[SiteEntry]:
    """``sites.csv`` (a point per site) or ``sites.geojson`` (a point or an area per site)."""
    table = (
        read_csv(file, data, SITE_LAYOUT)
        if file == SITES_CSV_FILE
        else read_features(file, data, SITE_LAYOUT)
    )
    return _read_rows(table, _read_site)


def _read_site(cells: Cells) -> SiteEntry | None:
    code = cells.code("code")
    name = cells.text("name", required=True, longest=NAME_LENGTH)
    kind = cells.choice("kind", SiteKind)
    address = cells.text("address", longest=ADDRESS_LENGTH, multiline=True)
    latitude, longitude, area = _site_place(cells)
    owner = cells.code("owner", required=False)
    schedule = _validated(cells, "schedule", _WINDOWS)
    tasks = _validated(cells, "tasks", _TASKS)
    retention_days = cells.number("retention_days", lowest=0.001)
    retention_bytes = cells.whole("retention_bytes", lowest=1)
    if code is None or name is None or kind is None:
        return None
    return SiteEntry(
        where=cells.row.where,
        code=code,
        name=name,
        kind=kind,
        address=address,
        latitude=latitude,
        longitude=longitude,
        area=area,
        owner_code=owner,
        schedule=schedule,
        tasks=tasks,
        retention_days=retention_days,
        retention_bytes=retention_bytes,
        active=_active(cells),
    )


def _active(cells: Cells) -> bool:
    """Yes unless the file says no: a file without the column describes active things."""
    return cells.yes_no("active", default=True)


def _site_place(cells: Cells) -> tuple[float | None, float | None, dict[str, Any] | None]:
    """A site's point from its columns or Point geometry, or its area from a polygon."""
    geometry = cells.row.geometry
    if isinstance(geometry, dict) and geometry.get("type") in ("Polygon", "MultiPolygon"):
        return None, None, geometry
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if (
            isinstance(coordinates, list)
            and len(coordinates) in (2, 3)
            and all(_finite(c) for c in coordinates)
        ):
            return float(coordinates[1]), float(coordinates[0]), None
        cells.note("geometry", "a Point needs [longitude, latitude]")
        return None, None, None
    if geometry is not None:
        cells.note("geometry", "must be a Point, Polygon or MultiPolygon")
        return None, None, None
    latitude = cells.number("latitude", required=True)
    longitude = cells.number("longitude", required=True)
    return latitude, longitude, None


def _finite(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _validated(
    cells: Cells, name: str, adapter: TypeAdapter[list[WatchWindow]] | TypeAdapter[list[SiteTask]]
) -> tuple[dict[str, Any], ...]:
    items = cells.json_list(name)
    if items is None:
        return ()
    try:
        models: Sequence[WatchWindow | SiteTask] = adapter.validate_python(items)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            place = ".".join(str(part) for part in error["loc"])
            cells.note(name, f"[{place}] {error['msg']}")
        return ()
    return tuple(model.model_dump(mode="json") for model in models)
