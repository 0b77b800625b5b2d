"""What the files of a city folder say about each other, and about the city already stored.

Pure: shapely over GeoJSON, no database. The city an import leads to is what is stored now
with every entry of the folder laid over it by code; each check looks at that city, so a
police unit may cover a district that only the database has, and a new district is checked
against the stored ones it might overlap.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from safecity.city.folder.description import (
    DISTRICTS_FILE,
    ORGANIZATIONS_FILE,
    POLICE_UNITS_FILE,
    DistrictEntry,
    OrganizationEntry,
    PoliceUnitEntry,
    SiteEntry,
)
from safecity.city.folder.tables import Problem
from safecity.city.geo import DistrictArea, DistrictLocator
from safecity.city.models import OrganizationKind

OVERLAP_TOLERANCE = 0.005
"""Share of the smaller district two districts may share before an import is refused: borders
digitised separately (a cadastre, OSM) overlap by slivers a few metres wide."""
SLIVER_SQUARE_METRES = 10.0
"""How much of a site's area may lie beyond the city's districts: rounding, not a mistake."""
_METRES_PER_DEGREE_LATITUDE = 110_574.0
_METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111_320.0


@dataclass(frozen=True)
class StoredDistrict:
    name: str
    geometry: Mapping[str, Any]
    active: bool = True


@dataclass(frozen=True)
class StoredCity:
    """What the database holds, by code: the ground the folder's entries are laid over."""

    districts: Mapping[str, StoredDistrict] = field(default_factory=dict)
    organization_kinds: Mapping[str, OrganizationKind] = field(default_factory=dict)
    inactive_organizations: frozenset[str] = frozenset()
    fallback_units: frozenset[str] = frozenset()
    """Active units that take what no other covers."""
    unit_coverage: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Active unit → the codes of the districts it covers."""


@dataclass(frozen=True)
class CityDescription:
    """What the folder's files say; a file the folder lacks gives an empty tuple."""

    districts: tuple[DistrictEntry, ...] = ()
    organizations: tuple[OrganizationEntry, ...] = ()
    police_units: tuple[PoliceUnitEntry, ...] = ()
    sites: tuple[SiteEntry, ...] = ()
    sites_file: str = ""


@dataclass(frozen=True)
class Findings:
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


def check_city(
    description: CityDescription,
    stored: StoredCity,
    *,
    overlap_tolerance: float = OVERLAP_TOLERANCE,
) -> Findings:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    shapes = _district_shapes(description.districts, stored, problems)
    problems.extend(_overlaps(description.districts, shapes, overlap_tolerance))
    problems.extend(_repeated_names(description.districts, stored))
    city = _City(
        shapes=shapes,
        deactivated_districts=(
            {code for code, d in stored.districts.items() if not d.active}
            | {e.code for e in description.districts if not e.active}
        )
        - {e.code for e in description.districts if e.active},
        organization_kinds={
            **stored.organization_kinds,
            **{entry.code: entry.kind for entry in description.organizations},
        },
        deactivated_organizations=(
            set(stored.inactive_organizations)
            | {e.code for e in description.organizations if not e.active}
        )
        - {e.code for e in description.organizations if e.active},
    )
    problems.extend(_organization_problems(description.organizations, city))
    problems.extend(_police_unit_problems(description.police_units, stored, city))
    warnings.extend(_uncovered_districts(description, stored, shapes))
    problems.extend(_site_problems(description, city))
    return Findings(tuple(problems), tuple(warnings))


@dataclass(frozen=True)
class _City:
    """The city an import leads to, as the checks of references need it."""

    shapes: Mapping[str, BaseGeometry]
    """Usable polygons of the active districts, by code."""
    deactivated_districts: set[str]
    organization_kinds: Mapping[str, OrganizationKind]
    deactivated_organizations: set[str]

    def district_problem(self, code: str, *, deactivated_too: bool = False) -> str | None:
        """Why ``code`` cannot be referred to; a deactivated thing may refer to a
        deactivated district (``deactivated_too``), an active one may not."""
        if code in self.deactivated_districts:
            return None if deactivated_too else f"district {code!r} is deactivated"
        return None if code in self.shapes else f"unknown district {code!r}"

    def organization_problem(self, code: str, *, deactivated_too: bool = False) -> str | None:
        if code in self.deactivated_organizations:
            return None if deactivated_too else f"organization {code!r} is deactivated"
        return None if code in self.organization_kinds else f"unknown organization {code!r}"


_POLYGONS = ("Polygon", "MultiPolygon")


def geometry_problem(geometry: Mapping[str, Any]) -> str | None:
    """Why a GeoJSON (Multi)Polygon cannot be a district or a site's area, or None."""
    if not isinstance(geometry, Mapping) or geometry.get("type") not in _POLYGONS:
        shown = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        return f"must be a Polygon or MultiPolygon, got {shown!r}"
    if not _all_numbers(geometry.get("coordinates")):
        return "coordinates must be nested lists of numbers ([longitude, latitude] pairs)"
    try:
        polygon = shape(geometry)
    except (
        shapely.errors.GEOSException,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
    ) as exc:
        return f"not a readable polygon: {exc or type(exc).__name__}"
    if polygon.is_empty:
        return "the polygon is empty"
    west, south, east, north = polygon.bounds
    if not all(math.isfinite(value) for value in polygon.bounds) or not (
        -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    ):
        return (
            f"coordinates ({west:g}, {south:g})–({east:g}, {north:g}) are not WGS 84 "
            "longitude/latitude: export the layer in EPSG:4326"
        )
    if not polygon.is_valid:
        return f"invalid polygon: {shapely.is_valid_reason(polygon)}"
    return None


def _all_numbers(coordinates: object, depth: int = 0) -> bool:
    """Lists (at most four deep, as a MultiPolygon's are) whose leaves are finite numbers:
    shapely would take "71.3" too and store text where a map client wants a number."""
    if isinstance(coordinates, list):
        return (
            depth < 4
            and bool(coordinates)
            and all(_all_numbers(item, depth + 1) for item in coordinates)
        )
    if isinstance(coordinates, bool) or not isinstance(coordinates, int | float):
        return False
    try:
        return math.isfinite(coordinates)
    except OverflowError:  # an integer too large for a float
        return False


def inner_point(area: Mapping[str, Any]) -> tuple[float, float]:
    """(latitude, longitude) of a point inside an area: where a site drawn as an area is."""
    point = shape(area).representative_point()
    return round(point.y, 6), round(point.x, 6)


def square_metres(geometry: BaseGeometry) -> float:
    """Area of a lon/lat geometry, by the local scale of a degree at its middle latitude:
    within a fraction of a percent for anything the size of a city."""
    middle = (geometry.bounds[1] + geometry.bounds[3]) / 2
    scale = _METRES_PER_DEGREE_LATITUDE * _METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR
    return float(geometry.area) * scale * math.cos(math.radians(middle))


def _district_shapes(
    entries: Sequence[DistrictEntry], stored: StoredCity, problems: list[Problem]
) -> dict[str, BaseGeometry]:
    """The usable polygons of the city's active districts after the import, by code."""
    shapes = {
        code: shape(district.geometry)
        for code, district in stored.districts.items()
        if district.active
    }
    for entry in entries:
        shapes.pop(entry.code, None)
        reason = geometry_problem(entry.geometry)
        if reason is not None:
            problems.append(Problem(DISTRICTS_FILE, _named(entry), "geometry", reason))
        elif entry.active:
            shapes[entry.code] = shape(entry.geometry)
    return shapes


def _named(entry: DistrictEntry | OrganizationEntry | PoliceUnitEntry | SiteEntry) -> str:
    return f"{entry.where} ({entry.code})"


def _overlaps(
    entries: Sequence[DistrictEntry], shapes: Mapping[str, BaseGeometry], tolerance: float
) -> Iterable[Problem]:
    """Each pair of districts sharing more than ``tolerance`` of the smaller one, where at
    least one of the pair comes from the file."""
    codes = sorted(shapes)
    tree = shapely.STRtree([shapes[code] for code in codes])
    from_file = {entry.code: entry for entry in entries}
    for code, entry in sorted(from_file.items()):
        if code not in shapes:
            continue
        for index in tree.query(shapes[code], predicate="intersects"):
            other = codes[int(index)]
            if other == code or (other in from_file and other < code):
                continue
            shared = shapes[code].intersection(shapes[other])
            smaller = min(square_metres(shapes[code]), square_metres(shapes[other]))
            share = square_metres(shared) / smaller if smaller else 1.0
            if share > tolerance:
                yield Problem(
                    DISTRICTS_FILE,
                    _named(entry),
                    "geometry",
                    f"overlaps district {other!r} by {square_metres(shared) / 10_000:,.1f} ha "
                    f"({share:.1%} of the smaller; at most {tolerance:.1%} is taken as a "
                    "digitising sliver)",
                )


def _repeated_names(entries: Sequence[DistrictEntry], stored: StoredCity) -> Iterable[Problem]:
    names = {code: district.name for code, district in stored.districts.items()}
    names.update({entry.code: entry.name for entry in entries})
    counts = Counter(name.casefold() for name in names.values())
    for entry in entries:
        if counts[entry.name.casefold()] > 1:
            others = sorted(
                code
                for code, name in names.items()
                if code != entry.code and name.casefold() == entry.name.casefold()
            )
            yield Problem(
                DISTRICTS_FILE,
                _named(entry),
                "name",
                f"{entry.name!r} is also the name of district {', '.join(others)}",
            )


def _organization_problems(entries: Sequence[OrganizationEntry], city: _City) -> Iterable[Problem]:
    for entry in entries:
        where = _named(entry)
        if entry.city_wide and entry.kind is not OrganizationKind.AKIMAT:
            yield Problem(
                ORGANIZATIONS_FILE, where, "city_wide", "only an akimat administers the city"
            )
        if entry.city_wide and entry.district_code:
            yield Problem(
                ORGANIZATIONS_FILE,
                where,
                "district",
                "a city-wide akimat has no district of its own: leave one of them empty",
            )
        elif entry.district_code and (
            reason := city.district_problem(entry.district_code, deactivated_too=not entry.active)
        ):
            yield Problem(ORGANIZATIONS_FILE, where, "district", reason)
        elif (
            entry.kind is OrganizationKind.AKIMAT
            and not entry.city_wide
            and not entry.district_code
        ):
            yield Problem(
                ORGANIZATIONS_FILE,
                where,
                "district",
                "a district akimat needs its district (or city_wide = yes for the city akimat)",
            )


def _police_unit_problems(
    entries: Sequence[PoliceUnitEntry], stored: StoredCity, city: _City
) -> Iterable[Problem]:
    for entry in entries:
        where = _named(entry)
        kind = city.organization_kinds.get(entry.organization_code)
        reason = city.organization_problem(
            entry.organization_code, deactivated_too=not entry.active
        )
        if reason is not None:
            yield Problem(POLICE_UNITS_FILE, where, "organization", reason)
        elif kind is not None and kind is not OrganizationKind.POLICE:
            yield Problem(
                POLICE_UNITS_FILE,
                where,
                "organization",
                f"{entry.organization_code!r} is {kind.value}, not police",
            )
        for code in entry.district_codes:
            reason = city.district_problem(code, deactivated_too=not entry.active)
            if reason is not None:
                yield Problem(POLICE_UNITS_FILE, where, "districts", reason)
    fallbacks = set(stored.fallback_units)
    for entry in entries:
        fallbacks.discard(entry.code)
        if entry.fallback and entry.active:
            fallbacks.add(entry.code)
    if len(fallbacks) > 1:
        for entry in entries:
            if entry.fallback and entry.active:
                yield Problem(
                    POLICE_UNITS_FILE,
                    _named(entry),
                    "fallback",
                    f"one unit takes what no other covers; fallbacks: {', '.join(sorted(fallbacks))}",
                )


def _uncovered_districts(
    description: CityDescription, stored: StoredCity, shapes: Mapping[str, BaseGeometry]
) -> Iterable[Problem]:
    """Districts no unit covers while the city has no fallback unit: their incidents would
    reach no one. A warning, since units may be imported after the districts."""
    if not description.police_units:
        return
    has_fallback = bool(stored.fallback_units) or any(
        u.fallback and u.active for u in description.police_units
    )
    if has_fallback:
        return
    in_file = {unit.code for unit in description.police_units}
    covered = {
        code for unit in description.police_units if unit.active for code in unit.district_codes
    } | {
        code
        for unit, codes in stored.unit_coverage.items()
        if unit not in in_file
        for code in codes
    }
    for code in sorted(set(shapes) - covered):
        yield Problem(
            POLICE_UNITS_FILE,
            "",
            "districts",
            f"no unit covers district {code!r} and no unit is the fallback: its incidents "
            "would reach no one",
        )


def _outside_city(area: BaseGeometry, city_outline: BaseGeometry) -> str | None:
    """An area must lie inside the city (across a border is fine: the site then belongs to
    the district that holds its inner point)."""
    beyond = area.difference(city_outline)
    if square_metres(beyond) > SLIVER_SQUARE_METRES:
        return (
            f"the area reaches {square_metres(beyond) / 10_000:,.2f} ha outside every district "
            "of the city"
        )
    return None


def _site_problems(description: CityDescription, city: _City) -> Iterable[Problem]:
    file = description.sites_file
    city_outline = shapely.union_all(list(city.shapes.values())) if city.shapes else None
    located: list[tuple[SiteEntry, tuple[float, float]]] = []
    for entry in description.sites:
        where = _named(entry)
        owner_problem = entry.owner_code and city.organization_problem(
            entry.owner_code, deactivated_too=not entry.active
        )
        if owner_problem:
            yield Problem(file, where, "owner", owner_problem)
        if entry.area is not None:
            reason = geometry_problem(entry.area)
            if reason is None and city_outline is not None:
                reason = _outside_city(shape(entry.area), city_outline)
            if reason is not None:
                yield Problem(file, where, "geometry", reason)
                continue
            located.append((entry, inner_point(entry.area)))
        elif entry.latitude is None or entry.longitude is None:
            yield Problem(
                file, where, "latitude", "a site needs a point (latitude and longitude) or an area"
            )
        elif entry.latitude is not None and entry.longitude is not None:
            if not (-90 <= entry.latitude <= 90 and -180 <= entry.longitude <= 180):
                yield Problem(
                    file,
                    where,
                    "latitude",
                    f"latitude {entry.latitude!r}, longitude {entry.longitude!r} is out of range",
                )
                continue
            located.append((entry, (entry.latitude, entry.longitude)))
    codes = sorted(city.shapes)
    locator = DistrictLocator(
        DistrictArea(number, code, shapely.geometry.mapping(city.shapes[code]))
        for number, code in enumerate(codes)
    )
    found = locator.locate_many([position for _, position in located])
    for (entry, (latitude, longitude)), district in zip(located, found, strict=True):
        if district is None:
            yield Problem(
                file,
                _named(entry),
                "geometry" if entry.area is not None else "latitude",
                f"latitude {latitude!r}, longitude {longitude!r} lies outside every district "
                "of the city",
            )
