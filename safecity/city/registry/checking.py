"""Checking every row of a registry file: codes, stream URLs, coordinates and districts, widths,
duplicates. A row becomes a ``CameraRecord`` or a ``RowProblem``."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import String

from safecity.bounds import text_problem
from safecity.city.geo import DistrictLocator, valid_coordinates
from safecity.city.models import Camera, CameraStatus
from safecity.city.registry.columns import CODE, CODE_RULE, OPTIONAL_COLUMNS, URL_SCHEMES
from safecity.city.registry.parsing import SourceRow, finite_number
from safecity.city.registry.records import CameraRecord, ImportContext, RowProblem, Validation
from safecity.city.stream_urls import HIDDEN, without_password

_MULTILINE_COLUMNS = frozenset({"address"})
"""Text that may span lines (an address with a second line); the rest is one line."""
_PLACES_SHOWN = 5
# How often (in rows) the checking phase reports progress.
_PROGRESS_STEP = 500
# How often (in rows) the checking phase reports progress.


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
        number = finite_number(value)
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
