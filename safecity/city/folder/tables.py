"""Reading one file of a city folder into rows, and one row's cells into checked values.

Pure. A CSV file has a header line (any case; ',' ';' or tab between cells, as Excel writes
them in any locale); a GeoJSON file is a FeatureCollection whose features carry the same
fields as properties. Each field is read from its own name or one of its aliases (Russian and
Kazakh included), so files exported from other systems need no editing. Every fault is noted
against its file, line or feature and field, and reading goes on, so one pass reports all.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from safecity.bounds import text_problem
from safecity.city.registry.columns import CODE, CODE_RULE, RegistryFileError, header_key
from safecity.city.registry.parsing import decode_text, header_delimiter

CODE_LENGTH = 64
_YES = frozenset({"yes", "y", "true", "1", "да", "иә", "x", "+"})
_NO = frozenset({"no", "n", "false", "0", "нет", "жоқ", "-"})
_LIST_SEPARATORS = re.compile(r"[\s,;]+")

Choice = TypeVar("Choice", bound=enum.Enum)


class CityFileError(Exception):
    """A file of the folder cannot be read at all; its name is in the message."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


@dataclass(frozen=True, order=True)
class Problem:
    """Why something in the folder cannot be imported, and exactly where."""

    file: str
    where: str
    """"line 4", "feature 2", or "" for the file as a whole."""
    field: str
    """The column or property at fault; "" when it is the row as a whole."""
    reason: str

    def __str__(self) -> str:
        place = " ".join(part for part in (self.file, self.where) if part)
        return f"{place}: {self.field}: {self.reason}" if self.field else f"{place}: {self.reason}"


@dataclass(frozen=True)
class Row:
    """One CSV line or GeoJSON feature: its values by field, and its geometry for GeoJSON."""

    file: str
    where: str
    values: Mapping[str, object]
    geometry: object = None
    problem: str | None = None
    """Set when the row cannot be read at all (wrong number of cells, not a Feature)."""


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    ignored_columns: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """The fields of one kind of file: their order (as written on export), which are
    required and the other names they are read from."""

    fields: tuple[str, ...]
    required: frozenset[str]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def field_of(self) -> dict[str, str]:
        return {
            header_key(name): name_field
            for name_field in self.fields
            for name in (name_field, *self.aliases.get(name_field, ()))
        }


def read_csv(file: str, data: bytes, layout: Layout) -> Table:
    try:
        text = decode_text(data)
    except RegistryFileError as exc:
        raise CityFileError(file, str(exc)) from exc
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=header_delimiter(text), strict=True
    )
    columns: list[str | None] | None = None
    ignored: list[str] = []
    rows: list[Row] = []
    last_line = 0
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                columns = _header(file, cells, layout, ignored)
                continue
            where = f"line {first_line}"
            if len(cells) != len(columns):
                problem = f"has {len(cells)} values but the header has {len(columns)} columns"
                rows.append(Row(file, where, {}, problem=problem))
                continue
            values = {name: cell for name, cell in zip(columns, cells, strict=True) if name}
            rows.append(Row(file, where, values))
    except csv.Error as exc:
        raise CityFileError(file, f"not valid CSV at line {reader.line_num}: {exc}") from exc
    if columns is None:
        raise CityFileError(file, "empty file: expected a header line naming the columns")
    return Table(tuple(rows), tuple(ignored))


def _header(file: str, cells: list[str], layout: Layout, ignored: list[str]) -> list[str | None]:
    field_of = layout.field_of()
    columns: list[str | None] = []
    for cell in cells:
        name = field_of.get(header_key(cell))
        if name is not None and name in columns:
            raise CityFileError(file, f"two columns give {name!r}: name one of them otherwise")
        if name is None and cell.strip():
            ignored.append(cell.strip())
        columns.append(name)
    missing = [name for name in layout.fields if name in layout.required and name not in columns]
    if missing:
        raise CityFileError(file, f"the header lacks required columns: {', '.join(missing)}")
    return columns


def read_features(file: str, data: bytes, layout: Layout) -> Table:
    try:
        document = json.loads(decode_text(data))
    except RegistryFileError as exc:
        raise CityFileError(file, str(exc)) from exc
    except ValueError as exc:
        raise CityFileError(file, f"not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise CityFileError(file, 'not a GeoJSON FeatureCollection ("type": "FeatureCollection")')
    features = document.get("features")
    if not isinstance(features, list):
        raise CityFileError(file, 'the FeatureCollection has no "features" list')
    field_of = layout.field_of()
    ignored: dict[str, None] = {}
    rows: list[Row] = []
    for index, feature in enumerate(features, start=1):
        where = f"feature {index}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            rows.append(Row(file, where, {}, problem="not a GeoJSON Feature"))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            rows.append(Row(file, where, {}, problem='"properties" is not an object'))
            continue
        values: dict[str, object] = {}
        for key, value in properties.items():
            name = field_of.get(header_key(str(key)))
            if name is None:
                ignored[str(key)] = None
            else:
                values[name] = value
        rows.append(Row(file, where, values, geometry=feature.get("geometry")))
    return Table(tuple(rows), tuple(ignored))


class Cells:
    """Reads one row's values, noting every problem (with its field) instead of stopping."""

    def __init__(self, row: Row, problems: list[Problem]) -> None:
        self.row = row
        self._problems = problems

    def note(self, field_name: str, reason: str) -> None:
        self._problems.append(Problem(self.row.file, self.row.where, field_name, reason))

    def _raw(self, name: str) -> object:
        value = self.row.values.get(name)
        if isinstance(value, str):
            value = value.strip()
        return None if value == "" else value

    def text(
        self, name: str, *, required: bool = False, longest: int = 200, multiline: bool = False
    ) -> str | None:
        value = self._raw(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            if required:
                self.note(name, "missing (required)")
            return None
        if not isinstance(value, str):
            self.note(name, f"must be text, got {json.dumps(value)}")
            return None
        problem = text_problem(value, multiline=multiline)
        if problem:
            self.note(name, f"{value!r} {problem}")
        elif len(value) > longest:
            self.note(name, f"{len(value)} characters, at most {longest} fit")
        return value

    def code(self, name: str, *, required: bool = True) -> str | None:
        value = self.text(name, required=required, longest=CODE_LENGTH)
        if value is not None and not CODE.fullmatch(value):
            self.note(name, f"{value!r} {CODE_RULE}")
        return value

    def codes(self, name: str) -> tuple[str, ...]:
        """A list of codes in one cell (separated by spaces, commas or semicolons) or a JSON
        list in GeoJSON."""
        value = self._raw(name)
        if value is None:
            return ()
        items: Iterable[object]
        if isinstance(value, list):
            items = value
        elif isinstance(value, str):
            items = [item for item in _LIST_SEPARATORS.split(value) if item]
        else:
            self.note(name, f"must be a list of codes, got {json.dumps(value)}")
            return ()
        codes: list[str] = []
        for item in items:
            if not isinstance(item, str) or not CODE.fullmatch(item):
                self.note(name, f"{item!r} is not a code: a code {CODE_RULE}")
            elif item in codes:
                self.note(name, f"{item!r} is listed twice")
            else:
                codes.append(item)
        return tuple(codes)

    def choice(self, name: str, kind: type[Choice], *, required: bool = True) -> Choice | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        for member in kind:
            if member.value == value.casefold():
                return member
        allowed = ", ".join(str(member.value) for member in kind)
        self.note(name, f"{value!r} is not one of {allowed}")
        return None

    def yes_no(self, name: str, *, default: bool = False) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).casefold()
        if text in _YES:
            return True
        if text not in _NO:
            self.note(name, f"{value!r} is neither yes nor no")
        return False

    def number(
        self, name: str, *, required: bool = False, lowest: float | None = None
    ) -> float | None:
        value = self._raw(name)
        if value is None:
            if required:
                self.note(name, "missing (required)")
            return None
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                hint = " (use a dot as the decimal separator)" if "," in value else ""
                self.note(name, f"{value!r} is not a number{hint}")
                return None
        if number is None or not math.isfinite(number):
            self.note(name, f"{json.dumps(value)} is not a finite number")
            return None
        if lowest is not None and number < lowest:
            self.note(name, f"{value!r} is below {lowest:g}")
            return None
        return number

    def whole(self, name: str, *, lowest: int = 0, highest: int = 2**63 - 1) -> int | None:
        number = self.number(name)
        if number is None:
            return None
        if not number.is_integer() or not lowest <= number <= highest:
            self.note(name, f"{self.row.values.get(name)!r} is not a whole number from {lowest}")
            return None
        return int(number)

    def json_list(self, name: str) -> list[Any] | None:
        """A list given natively (GeoJSON) or as JSON text in a CSV cell; None if absent."""
        value = self._raw(name)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                self.note(name, f"not valid JSON: {exc}")
                return None
        if not isinstance(value, list):
            self.note(name, f"must be a list, got {json.dumps(value)[:80]}")
            return None
        return value


def csv_text(layout: Layout, rows: Sequence[Mapping[str, object]]) -> bytes:
    """Rows written as CSV in the layout's column order; None becomes an empty cell."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(layout.fields)
    for row in rows:
        writer.writerow(_cell(row.get(name)) for name in layout.fields)
    return out.getvalue().encode()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def feature_collection(features: Sequence[Mapping[str, object]]) -> bytes:
    """One feature per line: readable, and a city kept in git diffs feature by feature."""
    lines = ",\n".join(json.dumps(feature, ensure_ascii=False) for feature in features)
    body = f"\n{lines}\n" if lines else ""
    return f'{{"type": "FeatureCollection", "features": [{body}]}}\n'.encode()
