"""A police statistics file: its columns in the register's words (English, Russian, Kazakh),
reading it, and checking every row into a ``CrimeRow`` or the problems that keep it out.

Pure: bytes, the districts and the city's time zone in; rows and problems out. The camera
registry's reading rules apply (``city.registry.parsing``): UTF-8 with or without Excel's
byte-order mark, ',' ';' or tab as the header line has it, column names compared without case,
blanks or how words are joined. Each problem names the file line, the column, what is wrong
and the value, so a person can fix the file without guessing.

Times without a zone (what a police export has) are the city's local time; ``DD.MM.YYYY
HH:MM`` is read as Excel writes it in a Russian or Kazakh locale.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import TypeVar

from safecity.bounds import FIRST_DAY, LAST_DAY, text_problem
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.geo import DistrictLocator, valid_coordinates
from safecity.city.registry.columns import RegistryFileError, header_key
from safecity.city.registry.parsing import decode_text, finite_number, header_delimiter

COLUMNS: tuple[str, ...] = (
    "code",
    "time",
    "kind",
    "place_kind",
    "latitude",
    "longitude",
    "district",
    "solved",
    "solved_at",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("code", "time", "kind", "place_kind")
ALIASES: Mapping[str, tuple[str, ...]] = {
    "code": ("register_number", "number", "id", "номер", "регистрационный номер",
             "ердр", "erdr", "тіркеу_нөмірі", "нөмір"),
    "time": ("occurred_at", "datetime", "date", "date_time", "время", "дата", "дата_и_время",
             "дата_совершения", "уақыты", "күні"),
    "kind": ("crime_kind", "type", "crime", "вид", "вид_преступления", "түрі", "қылмыс_түрі"),
    "place_kind": ("place", "place_type", "место", "место_совершения", "вид_места", "орын",
                   "орны"),
    "latitude": ("lat", "y", "широта", "ендік"),
    "longitude": ("lon", "lng", "long", "x", "долгота", "бойлық"),
    "district": ("district_name", "district_code", "район", "аудан"),
    "solved": ("cleared", "раскрыто", "раскрыто_ли", "ашылды", "ашылған"),
    "solved_at": ("solved_date", "solved_on", "cleared_at", "дата_раскрытия", "ашылған_күні"),
}  # fmt: skip

# Spellings of the register's values, folded as ``_word`` folds them.
KIND_WORDS: Mapping[str, CrimeKind] = {
    **{kind.value: kind for kind in CrimeKind},
    "кража": CrimeKind.THEFT, "ұрлық": CrimeKind.THEFT,
    "грабеж": CrimeKind.ROBBERY, "грабёж": CrimeKind.ROBBERY, "разбой": CrimeKind.ROBBERY,
    "тонау": CrimeKind.ROBBERY, "қарақшылық": CrimeKind.ROBBERY,
    "нападение": CrimeKind.ASSAULT, "побои": CrimeKind.ASSAULT, "шабуыл": CrimeKind.ASSAULT,
    "хулиганство": CrimeKind.HOOLIGANISM, "бұзақылық": CrimeKind.HOOLIGANISM,
    "вандализм": CrimeKind.VANDALISM,
    "мошенничество": CrimeKind.FRAUD, "алаяқтық": CrimeKind.FRAUD,
    "наркотики": CrimeKind.DRUGS, "есірткі": CrimeKind.DRUGS,
    "угон": CrimeKind.VEHICLE_THEFT, "угон_автотранспорта": CrimeKind.VEHICLE_THEFT,
    "прочее": CrimeKind.OTHER, "другое": CrimeKind.OTHER, "басқа": CrimeKind.OTHER,
}  # fmt: skip
PLACE_WORDS: Mapping[str, PlaceKind] = {
    **{place.value: place for place in PlaceKind},
    "public": PlaceKind.PUBLIC_PLACE, "streets": PlaceKind.STREET, "home": PlaceKind.DWELLING,
    "улица": PlaceKind.STREET, "на_улице": PlaceKind.STREET, "көше": PlaceKind.STREET,
    "общественное_место": PlaceKind.PUBLIC_PLACE, "в_общественном_месте": PlaceKind.PUBLIC_PLACE,
    "қоғамдық_орын": PlaceKind.PUBLIC_PLACE,
    "жилище": PlaceKind.DWELLING, "квартира": PlaceKind.DWELLING, "жилой_дом": PlaceKind.DWELLING,
    "тұрғын_үй": PlaceKind.DWELLING, "пәтер": PlaceKind.DWELLING,
    "другое": PlaceKind.OTHER, "прочее": PlaceKind.OTHER, "басқа": PlaceKind.OTHER,
}  # fmt: skip
YES_WORDS = frozenset({"yes", "y", "true", "1", "да", "раскрыто", "иә", "ия", "ашылды"})
NO_WORDS = frozenset({"no", "n", "false", "0", "нет", "не_раскрыто", "жоқ", "ашылмады"})

OCC_PREFIX = "OCC-"
"""Codes of records counted from OCC incidents; a register row may not take one."""
MAX_CODE = 64
_FIELD_OF: Mapping[str, str] = {
    header_key(name): field for field in COLUMNS for name in (field, *ALIASES[field])
}
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


_E = TypeVar("_E", CrimeKind, PlaceKind)


class CrimeFileError(Exception):
    """The file as a whole cannot be read; no row of it is imported."""


MAX_ROWS = 200_000
"""Rows one file may hold: a large city's register for several years; more is split."""


class TooManyRows(CrimeFileError):
    """Over ``MAX_ROWS`` rows: the file is refused before any row is checked."""


def _word(value: str) -> str:
    return header_key(value)


@dataclass(frozen=True)
class SourceRow:
    line: int
    values: Mapping[str, str]
    problem: str | None = None
    """Why the row cannot be read at all (a wrong number of cells)."""


@dataclass(frozen=True)
class ParsedFile:
    rows: tuple[SourceRow, ...]
    columns: Mapping[str, str]
    """Field → the column it is read from, as the file spells it."""
    ignored_columns: tuple[str, ...]


def parse_csv(data: bytes) -> ParsedFile:
    """The rows of a CSV file with a header line; blank rows are skipped."""
    try:
        text = decode_text(data)
    except RegistryFileError as exc:
        raise CrimeFileError(str(exc)) from exc
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=header_delimiter(text), strict=True
    )
    header: list[str] | None = None
    fields: list[str | None] = []
    rows: list[SourceRow] = []
    last_line = 0
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise TooManyRows(f"more than {MAX_ROWS:,} rows: split the file")
            if header is None:
                header = [cell.strip() for cell in cells]
                fields = _fields_of(header)
                continue
            if len(cells) != len(header):
                problem = f"has {len(cells)} values but the header has {len(header)} columns"
                rows.append(SourceRow(first_line, {}, problem))
                continue
            values = {
                field: cell for field, cell in zip(fields, cells, strict=True) if field is not None
            }
            rows.append(SourceRow(first_line, values))
    except csv.Error as exc:
        raise CrimeFileError(f"not valid CSV at line {reader.line_num}: {exc}") from exc
    if header is None:
        raise CrimeFileError("empty file: expected a header line naming the columns")
    columns = {field: name for field, name in zip(fields, header, strict=True) if field}
    ignored = tuple(name for field, name in zip(fields, header, strict=True) if not field and name)
    return ParsedFile(
        tuple(rows), dict(sorted(columns.items(), key=lambda i: COLUMNS.index(i[0]))), ignored
    )


def _fields_of(header: Sequence[str]) -> list[str | None]:
    """The field each column gives (None: ignored), or CrimeFileError saying what is missing."""
    keys = [header_key(name) for name in header]
    repeated = sorted({key for key in keys if key and keys.count(key) > 1})
    if repeated:
        raise CrimeFileError(f"header repeats columns: {', '.join(repeated)}")
    found: defaultdict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        field = _FIELD_OF.get(key)
        if field is not None:
            found[field].append(index)
    fields: list[str | None] = [None] * len(header)
    for field, indexes in found.items():
        own = [index for index in indexes if keys[index] == field]
        if len(indexes) > 1 and not own:
            names = ", ".join(repr(header[index]) for index in indexes)
            raise CrimeFileError(f"columns {names} would all be {field}: keep one")
        fields[(own or indexes)[0]] = field
    missing = [field for field in REQUIRED_COLUMNS if field not in found]
    if missing:
        described = "; ".join(f"{field} (or {', '.join(ALIASES[field][:4])})" for field in missing)
        raise CrimeFileError(f"header lacks required columns: {described}")
    if "district" not in found and not ("latitude" in found and "longitude" in found):
        raise CrimeFileError(
            "header names no location: give latitude and longitude columns, or a district column"
        )
    return fields


@dataclass(frozen=True)
class CrimeRow:
    """One valid row, in the database's terms (times in UTC)."""

    code: str
    occurred_at: datetime
    kind: CrimeKind
    place_kind: PlaceKind
    latitude: float | None
    longitude: float | None
    district_id: int
    solved: bool
    solved_at: datetime | None


@dataclass(frozen=True)
class RowProblem:
    """One fault of one row: the file line, the row's code where it has one, the column, what
    is wrong and the value as the file has it."""

    line: int
    code: str | None
    column: str
    problem: str
    value: str | None


@dataclass(frozen=True)
class Districts:
    """What locations are checked against: the polygons, and names and codes (casefolded) to
    the districts they name."""

    locator: DistrictLocator
    keys: Mapping[str, frozenset[int]]


@dataclass(frozen=True)
class Validation:
    rows: tuple[CrimeRow, ...]
    problems: tuple[RowProblem, ...]
    bad_lines: frozenset[int]


def validate(parsed: ParsedFile, districts: Districts, zone: tzinfo, now: datetime) -> Validation:
    """Check every row; a row with any problem is left out of ``rows``."""
    counts: defaultdict[str, list[int]] = defaultdict(list)
    for row in parsed.rows:
        code = row.values.get("code", "").strip()
        if code:
            counts[code].append(row.line)
    good: list[CrimeRow] = []
    problems: list[RowProblem] = []
    bad: set[int] = set()
    for row in parsed.rows:
        checker = _RowChecker(row, districts, zone, now)
        result = checker.check(counts)
        if result is None:
            problems.extend(checker.problems)
            bad.add(row.line)
        else:
            good.append(result)
    return Validation(tuple(good), tuple(problems), frozenset(bad))


class _RowChecker:
    def __init__(self, row: SourceRow, districts: Districts, zone: tzinfo, now: datetime) -> None:
        self.row = row
        self.districts = districts
        self.zone = zone
        self.now = now
        self.code: str | None = None
        self.problems: list[RowProblem] = []

    def fault(self, column: str, problem: str, value: str | None = None) -> None:
        self.problems.append(RowProblem(self.row.line, self.code, column, problem, value))

    def text(self, column: str) -> str:
        value = self.row.values.get(column, "").strip()
        problem = text_problem(value)
        if problem:
            self.fault(column, problem, value)
            return ""
        return value

    def check(self, counts: Mapping[str, list[int]]) -> CrimeRow | None:
        if self.row.problem:
            self.fault("", self.row.problem)
            return None
        code = self.read_code(counts)
        occurred_at = self.moment("time", required=True)
        kind = self.choice("kind", KIND_WORDS, CrimeKind)
        place = self.choice("place_kind", PLACE_WORDS, PlaceKind)
        position = self.position()
        district_id = self.district(position)
        solved, solved_at = self.solved(occurred_at)
        if self.problems:
            return None
        assert code and occurred_at and kind and place and district_id is not None
        return CrimeRow(
            code,
            occurred_at,
            kind,
            place,
            position[0] if position else None,
            position[1] if position else None,
            district_id,
            solved,
            solved_at,
        )

    def read_code(self, counts: Mapping[str, list[int]]) -> str | None:
        code = self.text("code")
        if not code:
            self.fault("code", "missing (the register number is required)")
            return None
        self.code = code
        if len(code) > MAX_CODE:
            self.fault("code", f"{len(code)} characters, at most {MAX_CODE} fit", code)
        elif code.upper().startswith(OCC_PREFIX):
            self.fault("code", f"codes starting {OCC_PREFIX} are kept for OCC incidents", code)
        lines = counts.get(code, [])
        if len(lines) > 1:
            others = [str(line) for line in lines if line != self.row.line]
            shown = ", ".join(others[:5]) + (
                f" and {len(others) - 5} more" if len(others) > 5 else ""
            )
            self.fault("code", f"appears more than once (also on line {shown})", code)
        return code

    def moment(self, column: str, *, required: bool = False) -> datetime | None:
        value = self.text(column)
        if not value:
            if required:
                self.fault(column, "missing (required)")
            return None
        moment = read_moment(value, self.zone)
        if moment is None:
            self.fault(
                column,
                "is not a date and time (like 2026-03-14T21:30, 2026-03-14 or 14.03.2026 21:30)",
                value,
            )
            return None
        if moment > self.now:
            self.fault(column, "is in the future", value)
            return None
        return moment

    def choice(self, column: str, words: Mapping[str, _E], kind: type[_E]) -> _E | None:
        value = self.text(column)
        if not value:
            self.fault(column, "missing (required)")
            return None
        found = words.get(_word(value))
        if found is None:
            known = ", ".join(member.value for member in kind)
            self.fault(column, f"unknown; one of {known} (or its Russian or Kazakh name)", value)
        return found

    def position(self) -> tuple[float, float] | None:
        latitude_text = self.text("latitude")
        longitude_text = self.text("longitude")
        if not latitude_text and not longitude_text:
            return None
        numbers: list[float] = []
        for column, value in (("latitude", latitude_text), ("longitude", longitude_text)):
            if not value:
                self.fault(column, "missing (give both latitude and longitude, or neither)")
                continue
            number = finite_number(value)
            if number is None:
                hint = " (use a dot as the decimal separator)" if "," in value else ""
                self.fault(column, f"is not a number{hint}", value)
                continue
            numbers.append(number)
        if len(numbers) != 2:
            return None
        latitude, longitude = numbers
        if not valid_coordinates(latitude, longitude):
            self.fault(
                "latitude",
                "out of range (latitude -90..90, longitude -180..180)",
                f"{latitude_text}, {longitude_text}",
            )
            return None
        return latitude, longitude

    def district(self, position: tuple[float, float] | None) -> int | None:
        stated = self.text("district")
        stated_ids = self.districts.keys.get(stated.casefold()) if stated else None
        if stated and stated_ids is None:
            self.fault("district", "unknown district (give its name or code)", stated)
            return None
        if position is not None:
            located = self.districts.locator.locate(*position)
            if located is None:
                self.fault(
                    "latitude",
                    "the position lies outside every district",
                    f"{position[0]}, {position[1]}",
                )
                return None
            if stated_ids is not None and located not in stated_ids:
                self.fault(
                    "district",
                    f"the position lies in {self.districts.locator.name_of(located)!r}",
                    stated,
                )
                return None
            return located
        if stated_ids is None:
            self.fault("district", "no location: give latitude and longitude, or a district")
            return None
        if len(stated_ids) > 1:
            self.fault("district", "names more than one district: use its code", stated)
            return None
        return next(iter(stated_ids))

    def solved(self, occurred_at: datetime | None) -> tuple[bool, datetime | None]:
        value = self.text("solved")
        word = _word(value)
        solved_at = self.moment("solved_at")
        if not value:
            solved = solved_at is not None
        elif word in YES_WORDS:
            solved = True
        elif word in NO_WORDS:
            solved = False
            if solved_at is not None:
                self.fault(
                    "solved_at",
                    "a date of solving for a crime the file says is not solved",
                    self.row.values.get("solved_at"),
                )
        else:
            self.fault("solved", "is not yes or no (да/нет, иә/жоқ)", value)
            solved = False
        if solved_at is not None and occurred_at is not None and solved_at < occurred_at:
            self.fault("solved_at", "is before the crime's time", self.row.values.get("solved_at"))
        return solved, solved_at


def read_moment(value: str, zone: tzinfo) -> datetime | None:
    """A time in UTC from ISO 8601 (with or without a zone; a date alone is its midnight) or
    DD.MM.YYYY [HH:MM[:SS]]; local times are the city's. None when it is neither."""
    text = value.strip()
    dotted = _DOTTED.fullmatch(text)
    try:
        if dotted:
            day, month, year, hour, minute, second = dotted.groups()
            moment = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        elif len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)
