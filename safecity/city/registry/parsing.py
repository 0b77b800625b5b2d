"""Reading a registry file: CSV or GeoJSON rows, with each field taken from its own column, an
alias, or the column the person importing names.

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
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from safecity.city.registry.columns import (
    ALIASES,
    COLUMNS,
    REQUIRED_COLUMNS,
    RegistryFileError,
    RegistryFormat,
    header_key,
)

_DELIMITERS = (",", ";", "\t")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

# Each field's own name and aliases, folded, to the field.
_FIELD_OF: Mapping[str, str] = {
    header_key(name): field for field in COLUMNS for name in (field, *ALIASES[field])
}


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
            if stated not in (None, "") and finite_number(stated) != from_geometry:
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
    longitude, latitude = finite_number(coordinates[0]), finite_number(coordinates[1])
    if longitude is None or latitude is None:
        problems.append(f"geometry: coordinates {coordinates!r} are not numbers")
        return None
    return longitude, latitude


def finite_number(value: object) -> float | None:
    """A finite float from a JSON number or decimal text, else None."""
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            return None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
