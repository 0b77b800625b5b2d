"""The camera registry as a file: parse CSV/GeoJSON, check every row, write it back out.

Pure: no database and no file system. The caller passes the bytes it read and an
``ImportContext`` (the districts and site codes the rows are checked against) and gets typed
``CameraRecord``s and ``RowProblem``s back; ``safecity.city.registry_store`` writes the records.

A column that a file does not carry at all leaves that field of an existing camera as it is,
while a column that is present but empty clears it; so a file with only the required columns
can rename or move cameras without wiping vendor or firmware data kept elsewhere.

Files from other systems name their columns in their own words (``id``, ``lat``, ``Широта``):
each field is read from its own name, else from one of its ``ALIASES``, else from the column the
caller names for it (``safecity cameras import --column FIELD=HEADER``); ``ParsedFile.columns``
says which column gave which field, so that the person importing can see it before trusting it.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import String

from safecity.bounds import text_problem
from safecity.city.geo import DistrictLocator, valid_coordinates
from safecity.city.models import Camera, CameraStatus
from safecity.city.stream_urls import HIDDEN, without_password


class RegistryFormat(enum.StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"


# The file's columns in the order an export writes them; the file says camera_id for Camera.code.
COLUMNS: tuple[str, ...] = (
    "camera_id",
    "name",
    "address",
    "latitude",
    "longitude",
    "district",
    "site",
    "main_stream_url",
    "sub_stream_url",
    "status",
    "installed_at",
    "vendor",
    "model",
    "firmware",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "camera_id",
    "name",
    "latitude",
    "longitude",
    "main_stream_url",
)
# Other names files give each field (English, Russian, Kazakh), compared as `header_key` folds
# them. A name belongs to one field only; "x"/"y" are longitude/latitude as GIS tools write them.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "camera_id": ("id", "camera", "camera_code", "cam_id", "code", "код", "код камеры"),
    "name": ("camera_name", "title", "название", "наименование", "атауы"),
    "address": ("addr", "street_address", "адрес", "мекенжай"),
    "latitude": ("lat", "y", "широта", "ендік"),
    "longitude": ("lon", "lng", "long", "x", "долгота", "бойлық"),
    "district": ("district_name", "district_code", "район", "аудан"),
    "site": ("site_code", "объект"),
    "main_stream_url": (
        "stream_url",
        "stream",
        "main_stream",
        "main_url",
        "rtsp",
        "rtsp_url",
        "url",
        "video_url",
    ),
    "sub_stream_url": ("sub_stream", "substream", "substream_url", "sub_url", "sub_rtsp"),
    "status": ("state", "статус", "состояние"),
    "installed_at": (
        "installed",
        "installed_on",
        "install_date",
        "installation_date",
        "дата установки",
    ),
    "vendor": ("manufacturer", "make", "brand", "производитель"),
    "model": ("модель",),
    "firmware": ("firmware_version", "fw", "прошивка"),
}
# The optional columns that land in a camera field: all the others but `district`, which is
# only a cross-check. ``registry_store`` derives the camera fields an import sets from these.
OPTIONAL_COLUMNS: frozenset[str] = frozenset(COLUMNS) - {*REQUIRED_COLUMNS, "district"}
URL_SCHEMES: frozenset[str] = frozenset({"rtsp", "rtsps", "http", "https", "file"})

_EXTENSIONS: Mapping[str, RegistryFormat] = {
    ".csv": RegistryFormat.CSV,
    ".geojson": RegistryFormat.GEOJSON,
    ".json": RegistryFormat.GEOJSON,
}
_MULTILINE_COLUMNS = frozenset({"address"})
"""Text that may span lines (an address with a second line); the rest is one line."""
_DELIMITERS = (",", ";", "\t")
_PLACES_SHOWN = 5
_WORD_BREAKS = re.compile(r"[\s-]+")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# A camera code becomes an MQTT topic level (cameras/<code>/health) and part of file names, so
# '/', '+', '#', whitespace and the like are kept out; checked with fullmatch (no "$" newline).
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CODE_RULE = (
    "may hold only letters, digits, '.', '_' and '-' (ASCII, starting with a letter or digit)"
)
# How often (in rows) the checking phase reports progress.
_PROGRESS_STEP = 500


def header_key(name: str) -> str:
    """How column names are compared: case, surrounding blanks and how words are joined
    ("Stream URL", "stream-url", "stream_url") do not matter."""
    return _WORD_BREAKS.sub("_", name.strip()).casefold()


# Each field's own name and aliases, folded, to the field.
_FIELD_OF: Mapping[str, str] = {
    header_key(name): field for field in COLUMNS for name in (field, *ALIASES[field])
}


def _max_length(attribute: str) -> int:
    column_type = Camera.__table__.c[attribute].type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length


# Taken from the model so that a column widened by a migration is checked at its new width
# (SQLite would store an over-long value silently; PostgreSQL would fail the whole import).
_MAX_LENGTHS: Mapping[str, int] = {
    "camera_id": _max_length("code"),
    "name": _max_length("name"),
    "address": _max_length("address"),
    "vendor": _max_length("vendor"),
    "model": _max_length("model"),
    "firmware": _max_length("firmware"),
}


class RegistryFileError(Exception):
    """The file as a whole cannot be read as a registry; no row of it is imported."""


@dataclass(frozen=True)
class SourceRow:
    """One row as the file has it, before checking.

    ``values`` holds only the registry columns the row carries: CSV text, or GeoJSON property
    values with ``latitude``/``longitude`` taken from the Point geometry. ``problems`` are
    faults found while reading (bad geometry, a row of the wrong width). A row that is not
    ``readable`` (wrong number of cells, not a Feature) is reported with those problems only:
    its values are shifted or absent, so checking them would only add noise.
    """

    where: str
    values: Mapping[str, object]
    problems: tuple[str, ...] = ()
    readable: bool = True


@dataclass(frozen=True)
class ParsedFile:
    rows: tuple[SourceRow, ...]
    ignored_columns: tuple[str, ...]
    columns: Mapping[str, str]
    """Field → the column (GeoJSON property) it is read from, as the file spells it; in the
    format's column order."""


@dataclass(frozen=True)
class _ColumnChoice:
    """Which column gives each field: ``keys`` maps a field to a folded column name."""

    keys: Mapping[str, str]
    spelled: Mapping[str, str]
    """Folded column name → as the file spells it."""

    @property
    def columns(self) -> dict[str, str]:
        return {field: self.spelled[key] for field, key in self.keys.items()}

    def ignored(self, names: Iterable[str]) -> list[str]:
        taken = set(self.keys.values())
        return [name for name in names if name.strip() and header_key(name) not in taken]

    def missing(self, given_otherwise: frozenset[str] = frozenset()) -> list[str]:
        """The required fields no column gives (nor ``given_otherwise``: GeoJSON geometry)."""
        return [c for c in REQUIRED_COLUMNS if c not in self.keys and c not in given_otherwise]

    def values(self, by_key: Mapping[str, object]) -> dict[str, object]:
        """A row's field values from its values by folded column name."""
        return {field: by_key[key] for field, key in self.keys.items() if key in by_key}


@dataclass(frozen=True)
class CameraRecord:
    """One valid registry row. ``provided`` names the optional columns the file carried."""

    code: str
    name: str
    latitude: float
    longitude: float
    district_id: int
    main_stream_url: str
    address: str | None = None
    site_code: str | None = None
    sub_stream_url: str | None = None
    status: CameraStatus = CameraStatus.ACTIVE
    installed_at: date | None = None
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    provided: frozenset[str] = OPTIONAL_COLUMNS


@dataclass(frozen=True)
class RowProblem:
    where: str
    camera_id: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ImportContext:
    """What rows are checked against: district polygons, district names/codes, site codes.

    ``district_keys`` maps a casefolded district name or code to the districts it names (a
    name of one district may be the code of another); ``sites`` maps site codes to ids.
    """

    locator: DistrictLocator
    district_keys: Mapping[str, frozenset[int]]
    sites: Mapping[str, int]


@dataclass(frozen=True)
class Validation:
    records: tuple[CameraRecord, ...]
    problems: tuple[RowProblem, ...]

    @classmethod
    def collect(cls, results: Iterable[CameraRecord | RowProblem]) -> Validation:
        records: list[CameraRecord] = []
        problems: list[RowProblem] = []
        for result in results:
            if isinstance(result, CameraRecord):
                records.append(result)
            else:
                problems.append(result)
        return cls(tuple(records), tuple(problems))


def format_for(path: PurePath) -> RegistryFormat:
    """The format a file name implies: .csv, or .geojson/.json for GeoJSON."""
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise RegistryFileError(
            f"cannot tell the format from the name {path.name!r}: "
            "use a .csv, .geojson or .json file, or --format csv|geojson"
        ) from None


def parse(data: bytes, fmt: RegistryFormat, chosen: Mapping[str, str] | None = None) -> ParsedFile:
    """The rows of a file; ``chosen`` maps a field to the column it is to be read from."""
    if fmt is RegistryFormat.CSV:
        return parse_csv(data, chosen)
    return parse_geojson(data, chosen)


def _choose_columns(names: Iterable[str], chosen: Mapping[str, str]) -> _ColumnChoice:
    """Which of a file's column names gives each field, or RegistryFileError saying why that
    cannot be told.

    A column ``chosen`` for a field is taken as said. Otherwise a field is read from its own
    name, which wins over its aliases (an export, and every file made for the registry, means
    it); else from its one alias in the file: two are refused, not guessed between.
    """
    spelled = {header_key(name): name for name in names if name.strip()}
    keys = _chosen_keys(chosen, spelled)
    claimed = set(keys.values())
    candidates: defaultdict[str, list[str]] = defaultdict(list)
    for key in spelled:
        named = _FIELD_OF.get(key)
        if named is not None and named not in keys and key not in claimed:
            candidates[named].append(key)
    for field, found in candidates.items():
        if field in found:
            keys[field] = field
        elif len(found) == 1:
            keys[field] = found[0]
        else:
            raise RegistryFileError(_ambiguous(field, [spelled[key] for key in found]))
    return _ColumnChoice({c: keys[c] for c in COLUMNS if c in keys}, spelled)


def _chosen_keys(chosen: Mapping[str, str], spelled: Mapping[str, str]) -> dict[str, str]:
    """Field → folded column name for the columns named with --column, each in the file."""
    keys: dict[str, str] = {}
    for field, header in chosen.items():
        key = header_key(header)
        if key not in spelled:
            raise RegistryFileError(
                f"--column {field}={header}: the file has no column {header!r}"
                f" (it has {', '.join(map(repr, spelled.values()))})"
            )
        keys[field] = key
    return keys


def _ambiguous(field: str, names: Sequence[str]) -> str:
    listed = ", ".join(map(repr, names[:-1])) + f" and {names[-1]!r}"
    return (
        f"columns {listed} would both be {field}: remove one, or choose with "
        f"--column {field}=HEADER"
    )


def _lacking(subject: str, missing: Sequence[str]) -> str:
    """Which required fields have no column, with the names each is read from."""
    fields = "; ".join(
        f"{field} (also read from: {', '.join(ALIASES[field])})" for field in missing
    )
    return (
        f"{subject}: {fields}; if the file has one under another name, "
        f"name it with --column {missing[0]}=HEADER"
    )


def decode_text(data: bytes) -> str:
    try:
        # utf-8-sig: Excel puts a byte-order mark in front of "CSV UTF-8".
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RegistryFileError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} (save the file as UTF-8)"
        ) from exc


def header_delimiter(text: str) -> str:
    """The separator of the header line: Excel in a Russian or Kazakh locale writes ';'."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return max(_DELIMITERS, key=header.count)


def parse_csv(data: bytes, chosen: Mapping[str, str] | None = None) -> ParsedFile:
    """Rows of a CSV file with a header line; rows whose cells are all blank are skipped."""
    text = decode_text(data)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=header_delimiter(text), strict=True
    )
    rows: list[SourceRow] = []
    header: _CsvHeader | None = None
    last_line = 0
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _CsvHeader.read(cells, chosen or {})
                continue
            rows.append(header.row(first_line, cells))
    except csv.Error as exc:
        raise RegistryFileError(f"not valid CSV at line {reader.line_num}: {exc}") from exc
    if header is None:
        raise RegistryFileError("empty file: expected a CSV header line naming the columns")
    ignored = tuple(header.choice.ignored(header.names))
    return ParsedFile(tuple(rows), ignored, header.choice.columns)


@dataclass(frozen=True)
class _CsvHeader:
    names: tuple[str, ...]
    keys: tuple[str, ...]
    choice: _ColumnChoice

    @classmethod
    def read(cls, cells: list[str], chosen: Mapping[str, str]) -> _CsvHeader:
        names = tuple(cell.strip() for cell in cells)
        keys = tuple(map(header_key, names))
        repeated = sorted({key for key in keys if key and keys.count(key) > 1})
        if repeated:
            raise RegistryFileError(f"header repeats columns: {', '.join(repeated)}")
        choice = _choose_columns(names, chosen)
        missing = choice.missing()
        if missing:
            raise RegistryFileError(
                f"{_lacking('header lacks required columns', missing)} "
                f"(the header line is {','.join(cells)!r})"
            )
        return cls(names, keys, choice)

    def row(self, line: int, cells: list[str]) -> SourceRow:
        where = f"line {line}"
        if len(cells) != len(self.keys):
            problem = f"has {len(cells)} values but the header has {len(self.keys)} columns"
            # The id usually comes first, before whatever shifted the cells.
            position = self.keys.index(self.choice.keys["camera_id"])
            values = {"camera_id": cells[position]} if position < len(cells) else {}
            return SourceRow(where, values, (problem,), readable=False)
        return SourceRow(where, self.choice.values(dict(zip(self.keys, cells, strict=True))))


def parse_geojson(data: bytes, chosen: Mapping[str, str] | None = None) -> ParsedFile:
    """Features of a GeoJSON FeatureCollection; the position comes from each Point geometry."""
    text = decode_text(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryFileError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise RegistryFileError(
            'not a GeoJSON FeatureCollection (expected "type": "FeatureCollection")'
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise RegistryFileError('the FeatureCollection has no "features" list')
    names = list(
        dict.fromkeys(
            key
            for feature in features
            if isinstance(feature, dict) and isinstance(feature.get("properties"), dict)
            for key in feature["properties"]
        )
    )
    choice = _choose_columns(names, chosen or {})
    missing = choice.missing(given_otherwise=frozenset({"latitude", "longitude"}))
    if names and missing:
        raise RegistryFileError(_lacking("no feature has the required properties", missing))
    rows = tuple(_feature_row(index, feature, choice) for index, feature in enumerate(features))
    return ParsedFile(rows, tuple(sorted(choice.ignored(names))), choice.columns)


def _feature_row(index: int, feature: object, choice: _ColumnChoice) -> SourceRow:
    where = f"features[{index}]"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return SourceRow(where, {}, ("not a GeoJSON Feature",), readable=False)
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        return SourceRow(where, {}, ('"properties" is not an object',), readable=False)
    values = choice.values({header_key(key): value for key, value in properties.items()})
    geometry = feature.get("geometry")
    if geometry is None and "latitude" in values and "longitude" in values:
        # An unlocated feature (null geometry) that carries its position as properties.
        return SourceRow(where, values)
    problems: list[str] = []
    position = _point(geometry, problems)
    if position is not None:
        for column, from_geometry in zip(("longitude", "latitude"), position, strict=True):
            stated = values.get(column)
            if stated not in (None, "") and _number(stated) != from_geometry:
                problems.append(
                    f"{column}: property {stated!r} disagrees with the geometry ({from_geometry!r})"
                )
            values[column] = from_geometry
    return SourceRow(where, values, tuple(problems))


def _point(geometry: object, problems: list[str]) -> tuple[float, float] | None:
    """The (lon, lat) of a GeoJSON Point, or None with the reason added to ``problems``."""
    if geometry is None:
        problems.append("geometry: missing (a Point [longitude, latitude] is required)")
        return None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        problems.append(f"geometry: must be a Point, got {kind}")
        return None
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        problems.append("geometry: coordinates must be [longitude, latitude]")
        return None
    longitude, latitude = _number(coordinates[0]), _number(coordinates[1])
    if longitude is None or latitude is None:
        problems.append(f"geometry: coordinates {coordinates!r} are not numbers")
        return None
    return longitude, latitude


def _number(value: object) -> float | None:
    """A finite float from a JSON number or decimal text, else None."""
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            return None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def validate(
    rows: Sequence[SourceRow],
    context: ImportContext,
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Check every row; ``progress``, if given, is told (rows read, rows) as it goes.

    Every row's fields are read first; then the positions of all rows are looked up in the
    district index with one vectorised query (and those outside every district once more with
    latitude and longitude swapped, for the hint); then each row becomes a record or a problem,
    in file order.
    """
    total = len(rows)
    if progress is not None:
        progress(0, total)
    duplicates = _duplicates(rows)
    read: list[_ReadRow | RowProblem] = []
    for index, row in enumerate(rows):
        read.append(_read_row(row, context, duplicates.get(index)))
        if progress is not None and (index + 1) % _PROGRESS_STEP == 0:
            progress(index + 1, total)
    _locate([row for row in read if isinstance(row, _ReadRow)], context.locator)
    validation = Validation.collect(
        row if isinstance(row, RowProblem) else _finish_row(row, context.locator) for row in read
    )
    if progress is not None:
        progress(total, total)
    return validation


def _duplicates(rows: Sequence[SourceRow]) -> dict[int, str]:
    """Every row whose camera_id another row also has: no row is preferred over the other."""
    seen: defaultdict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        code = row.values.get("camera_id")
        if isinstance(code, str | int) and not isinstance(code, bool) and str(code).strip():
            seen[str(code).strip()].append(index)
    found: dict[int, str] = {}
    for code, indexes in seen.items():
        if len(indexes) > 1:
            places = ", ".join(rows[index].where for index in indexes[:_PLACES_SHOWN])
            if len(indexes) > _PLACES_SHOWN:
                places += f" and {len(indexes) - _PLACES_SHOWN} more"
            for index in indexes:
                found[index] = f"camera_id: {code!r} appears more than once ({places})"
    return found


class _RowChecker:
    """Reads one row's fields, noting every problem instead of stopping at the first."""

    def __init__(self, row: SourceRow) -> None:
        self.values = row.values
        self.problems: list[str] = list(row.problems)
        # A GeoJSON position that could not be read is already reported against the geometry.
        self._position_reported = bool(row.problems)

    def text(self, column: str, *, required: bool = False) -> str | None:
        value = self.values.get(column)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            self.problems.append(f"{column}: must be text, got {json.dumps(value)}")
            return None
        text = (value or "").strip()
        if not text:
            if required:
                self.problems.append(f"{column}: missing (required)")
            return None
        problem = text_problem(text, multiline=column in _MULTILINE_COLUMNS)
        if problem:
            # The API's rule for the same fields (safecity.bounds), so what one takes the
            # other takes too, and an export always imports again.
            self.problems.append(f"{column}: {text!r} {problem}")
        limit = _MAX_LENGTHS.get(column)
        if limit is not None and len(text) > limit:
            self.problems.append(f"{column}: {len(text)} characters, at most {limit} fit")
        return text

    def camera_id(self) -> str | None:
        known = len(self.problems)
        code = self.text("camera_id", required=True)
        if code is not None and len(self.problems) == known:
            reason = camera_code_problem(code)
            if reason:
                self.problems.append(f"camera_id: {code!r} {reason}")
        return code

    def coordinate(self, column: str) -> float | None:
        value = self.values.get(column)
        if value is None or (isinstance(value, str) and not value.strip()):
            if not self._position_reported:
                self.problems.append(f"{column}: missing (required)")
            return None
        number = _number(value)
        if number is None:
            hint = (
                " (use a dot as the decimal separator)"
                if isinstance(value, str) and "," in value
                else ""
            )
            self.problems.append(f"{column}: {value!r} is not a number{hint}")
        return number

    def url(self, column: str, *, required: bool = False) -> str | None:
        known = len(self.problems)
        url = self.text(column, required=required)
        if url is not None and len(self.problems) == known:  # one reason per value is enough
            reason = url_problem(url)
            if reason:
                self.problems.append(f"{column}: {reason}")
        return url

    def status(self) -> CameraStatus:
        text = self.text("status")
        if text is None:
            return CameraStatus.ACTIVE
        try:
            return CameraStatus(text.lower())
        except ValueError:
            allowed = ", ".join(status.value for status in CameraStatus)
            self.problems.append(f"status: {text!r} is not one of {allowed}")
            return CameraStatus.ACTIVE

    def iso_date(self, column: str) -> date | None:
        text = self.text(column)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.problems.append(f"{column}: {text!r} is not a date (YYYY-MM-DD)")
            return None


def camera_code_problem(code: str) -> str | None:
    """Why a camera code cannot be used, or None when it can."""
    return None if CODE.fullmatch(code) else CODE_RULE


def url_problem(url: str) -> str | None:
    """Why a stream URL cannot be used, or None when it can; the URL quoted with its password
    hidden, as the reason is shown on screens and in logs."""
    # Not printable = Unicode "Other" (control, format such as bidi overrides) or "Separator".
    if " " in url or not url.isprintable():
        return f"{_quoted(url)} contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError as exc:
        return f"{_quoted(url)} is not a valid URL ({exc})"
    if parts.scheme not in URL_SCHEMES:
        allowed = ", ".join(sorted(URL_SCHEMES))
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        return f"{_quoted(url)} has {shown}; allowed: {allowed}"
    if parts.scheme == "file":
        return None if parts.path else f"{_quoted(url)} names no file"
    return None if parts.hostname else f"{_quoted(url)} has no host"


def _quoted(url: str) -> str:
    """A URL to quote in a reason: its password hidden, or for a URL too broken to tell the
    password apart, only what follows its last '@'."""
    try:
        shown = without_password(url)
    except ValueError:
        _, at, rest = url.rpartition("@")
        return repr(f"…@{rest}" if at else url)
    # Unmasked, the URL is quoted as given: urlunsplit would tidy it ('file:' to 'file://').
    return repr(shown if HIDDEN in shown else url)


@dataclass(slots=True)
class _ReadRow:
    """A readable row with its fields read, waiting for the district its position lies in."""

    where: str
    code: str | None
    problems: list[str]
    # Where the reasons found by the district lookup go, so that reasons keep column order.
    district_slot: int
    # (latitude, longitude), both numbers and in range: the point to look up.
    position: tuple[float, float] | None
    stated_district: str | None
    stated_ids: frozenset[int] | None
    name: str | None
    address: str | None
    site: str | None
    main_stream_url: str | None
    sub_stream_url: str | None
    status: CameraStatus
    installed_at: date | None
    vendor: str | None
    model: str | None
    firmware: str | None
    provided: frozenset[str]
    # Filled in by _locate.
    district_id: int | None = None
    swapped_district_id: int | None = None


def _read_row(
    row: SourceRow, context: ImportContext, duplicate: str | None
) -> _ReadRow | RowProblem:
    check = _RowChecker(row)
    code = check.camera_id()
    if not row.readable:
        return RowProblem(row.where, code, row.problems)
    if duplicate:
        check.problems.append(duplicate)
    name = check.text("name", required=True)
    address = check.text("address")
    latitude, longitude = check.coordinate("latitude"), check.coordinate("longitude")
    stated = check.text("district")
    stated_ids = context.district_keys.get(stated.casefold()) if stated else None
    if stated is not None and stated_ids is None:
        check.problems.append(f"district: unknown district {stated!r}")
    position = None
    if latitude is not None and longitude is not None:
        if valid_coordinates(latitude, longitude):
            position = (latitude, longitude)
        else:
            check.problems.append(
                f"position: latitude {latitude!r}, longitude {longitude!r} is out of range "
                "(latitude -90..90, longitude -180..180)"
            )
    district_slot = len(check.problems)
    site = check.text("site")
    if site is not None and site not in context.sites:
        check.problems.append(f"site: unknown site code {site!r}")
    return _ReadRow(
        where=row.where,
        code=code,
        problems=check.problems,
        district_slot=district_slot,
        position=position,
        stated_district=stated,
        stated_ids=stated_ids,
        name=name,
        address=address,
        site=site,
        main_stream_url=check.url("main_stream_url", required=True),
        sub_stream_url=check.url("sub_stream_url"),
        status=check.status(),
        installed_at=check.iso_date("installed_at"),
        vendor=check.text("vendor"),
        model=check.text("model"),
        firmware=check.text("firmware"),
        provided=OPTIONAL_COLUMNS.intersection(row.values),
    )


def _locate(rows: Sequence[_ReadRow], locator: DistrictLocator) -> None:
    """Set the district of every row's position, and for a position outside every district
    the district it would lie in with latitude and longitude swapped: two index queries."""
    located: list[_ReadRow] = []
    positions: list[tuple[float, float]] = []
    for row in rows:
        if row.position is not None:
            located.append(row)
            positions.append(row.position)
    outside: list[_ReadRow] = []
    swapped: list[tuple[float, float]] = []
    for row, (latitude, longitude), district_id in zip(
        located, positions, locator.locate_many(positions), strict=True
    ):
        row.district_id = district_id
        if district_id is None and valid_coordinates(longitude, latitude):
            outside.append(row)
            swapped.append((longitude, latitude))
    for row, district_id in zip(outside, locator.locate_many(swapped), strict=True):
        row.swapped_district_id = district_id


def _finish_row(row: _ReadRow, locator: DistrictLocator) -> CameraRecord | RowProblem:
    """The record of a row whose district is known, or every reason it cannot be imported."""
    problems = row.problems
    if row.position is not None:
        reason = _district_problem(row, locator)
        if reason is not None:
            problems.insert(row.district_slot, reason)
    if problems:
        return RowProblem(row.where, row.code, tuple(problems))
    assert row.code and row.name and row.main_stream_url and row.position is not None
    assert row.district_id is not None
    latitude, longitude = row.position
    return CameraRecord(
        code=row.code,
        name=row.name,
        latitude=latitude,
        longitude=longitude,
        district_id=row.district_id,
        main_stream_url=row.main_stream_url,
        address=row.address,
        site_code=row.site,
        sub_stream_url=row.sub_stream_url,
        status=row.status,
        installed_at=row.installed_at,
        vendor=row.vendor,
        model=row.model,
        firmware=row.firmware,
        provided=row.provided,
    )


def _district_problem(row: _ReadRow, locator: DistrictLocator) -> str | None:
    """Why the position of a located row cannot be used: outside every district, or in
    another district than the row's district column says."""
    assert row.position is not None
    latitude, longitude = row.position
    if row.district_id is None:
        reason = (
            f"position: latitude {latitude!r}, longitude {longitude!r} lies outside every district"
        )
        if row.swapped_district_id is not None:
            reason += (
                " (with latitude and longitude swapped it would lie in "
                f"{locator.name_of(row.swapped_district_id)!r})"
            )
        return reason
    if row.stated_ids is not None and row.district_id not in row.stated_ids:
        return (
            f"district: the file says {row.stated_district!r} but the position lies in "
            f"{locator.name_of(row.district_id)!r}"
        )
    return None


def to_csv(records: Iterable[CameraRecord], district_names: Mapping[int, str]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        row = _export_values(record, district_names)
        writer.writerow("" if row[column] is None else row[column] for column in COLUMNS)
    return out.getvalue()


def to_geojson(records: Iterable[CameraRecord], district_names: Mapping[int, str]) -> str:
    """A FeatureCollection; the position is in the geometry only, not repeated in properties."""
    features: list[dict[str, Any]] = []
    for record in records:
        values = _export_values(record, district_names)
        properties = {
            column: values[column] for column in COLUMNS if column not in ("latitude", "longitude")
        }
        features.append(
            {
                "type": "Feature",
                "id": record.code,
                "geometry": {"type": "Point", "coordinates": [record.longitude, record.latitude]},
                "properties": properties,
            }
        )
    # One feature per line: readable, and a registry kept in git diffs camera by camera.
    lines = ",\n".join(json.dumps(feature, ensure_ascii=False) for feature in features)
    body = f"\n{lines}\n" if lines else ""
    return f'{{"type": "FeatureCollection", "features": [{body}]}}\n'


def serialise(
    records: Iterable[CameraRecord], district_names: Mapping[int, str], fmt: RegistryFormat
) -> str:
    if fmt is RegistryFormat.CSV:
        return to_csv(records, district_names)
    return to_geojson(records, district_names)


def _export_values(record: CameraRecord, district_names: Mapping[int, str]) -> dict[str, Any]:
    # repr() of a float is the shortest text that reads back as the same float, so an
    # export re-imports as unchanged.
    return {
        "camera_id": record.code,
        "name": record.name,
        "address": record.address,
        "latitude": repr(record.latitude),
        "longitude": repr(record.longitude),
        "district": district_names[record.district_id],
        "site": record.site_code,
        "main_stream_url": record.main_stream_url,
        "sub_stream_url": record.sub_stream_url,
        "status": record.status.value,
        "installed_at": record.installed_at.isoformat() if record.installed_at else None,
        "vendor": record.vendor,
        "model": record.model,
        "firmware": record.firmware,
    }
