"""Reading a file of camera requests (CSV with a header line) and checking every row, the way
the camera registry reads its files: UTF-8 (Excel's byte-order mark allowed), ',', ';' or tab
as the header line uses, column names in any case and in the users' words, and every problem
of every row reported, not the first alone.

Pure: no database and no file system. The caller passes the bytes and an ``ImportContext``
(districts, organizations, sites and the requests already stored) and gets ``Draft``s and
``RowProblem``s back; ``safecity.planning.requests.service`` stores the drafts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from safecity.bounds import text_problem
from safecity.city.geo import DistrictLocator, valid_coordinates
from safecity.city.registry.columns import RegistryFileError, header_key
from safecity.city.registry.parsing import decode_text, finite_number, header_delimiter
from safecity.planning.requests.models import CameraRequest, Urgency
from safecity.planning.requests.rules import (
    AskingOrganization,
    Draft,
    RequestSite,
    Submitter,
    district_problem,
    organization_problem,
    role_problem,
    site_problem,
)

COLUMNS: tuple[str, ...] = (
    "organization",
    "latitude",
    "longitude",
    "address",
    "district",
    "site",
    "urgency",
    "justification",
)
"""The file's columns, in the order an export writes them (the export adds its own: number,
status and the rest; of these an import reads only the number, to know a request it holds)."""
NUMBER = "number"
"""A stored request's number (an export's first column): a row that carries one is that
request, stored already, never a new one."""
ALIASES: Mapping[str, tuple[str, ...]] = {
    "organization": ("organisation", "org", "organization_code", "организация", "ұйым"),
    "latitude": ("lat", "y", "широта", "ендік"),
    "longitude": ("lon", "lng", "long", "x", "долгота", "бойлық"),
    "address": ("addr", "адрес", "мекенжай"),
    "district": ("district_name", "district_code", "район", "аудан"),
    "site": ("site_code", "объект"),
    "urgency": ("priority", "срочность", "шұғылдық"),
    "justification": ("reason", "why", "comment", "обоснование", "негіздеме"),
}
MAX_ROWS = 5000
"""A file is a batch of requests from the organizations, not a data set."""
_FIELD_OF: Mapping[str, str] = {
    NUMBER: NUMBER,
    **{header_key(name): field for field in COLUMNS for name in (field, *ALIASES[field])},
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell that starts with one of these a spreadsheet may run as a formula: an export writes
it behind a single quote (``'=…``), and an import takes exactly that quote off again."""
_ADDRESS_LENGTH: int = getattr(CameraRequest.__table__.c["address"].type, "length", None) or 300
MAX_JUSTIFICATION = 4000
_PROGRESS_STEP = 200


class RequestFileError(Exception):
    """The file as a whole cannot be read as requests; no row of it is stored."""


@dataclass(frozen=True)
class RowProblem:
    where: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CheckedRow:
    where: str
    draft: Draft


@dataclass(frozen=True)
class ParsedFile:
    rows: tuple[tuple[str, Mapping[str, str]], ...]
    """(where, field → cell text) per row, or a row of the wrong width as a problem."""
    misshapen: tuple[RowProblem, ...]
    columns: Mapping[str, str]
    """Field → the column it is read from, as the file spells it."""
    ignored_columns: tuple[str, ...]


@dataclass(frozen=True)
class ImportContext:
    """What rows are checked against, as stored now."""

    locator: DistrictLocator
    district_keys: Mapping[str, frozenset[int]]
    """Casefolded district name or code → the districts it names."""
    district_names: Mapping[int, str]
    organizations: Mapping[str, AskingOrganization]
    """By code."""
    organizations_by_id: Mapping[int, AskingOrganization]
    sites: Mapping[str, RequestSite]
    """By code."""
    stored: Mapping[tuple[object, ...], str]
    """A stored request's ``same_request`` key → its number, whatever its status: importing
    a file twice (or an export) stores nothing twice."""
    statuses: Mapping[str, tuple[int, str]]
    """A stored request's number → its organization's id and its status (``rejected``…)."""

    def already(self, number: str) -> str:
        return f"already {number} ({self.statuses[number][1]}): not stored again"

    def holds(self, number: str, submitter: Submitter) -> bool:
        """Whether ``number`` is a stored request ``submitter`` may know of (the programme
        office any, others their organization's); another's number is read as no number."""
        stored = self.statuses.get(number)
        return stored is not None and (
            submitter.for_others or stored[0] == submitter.organization_id
        )


@dataclass(frozen=True)
class Validation:
    rows: tuple[CheckedRow, ...]
    problems: tuple[RowProblem, ...]

    @property
    def drafts(self) -> tuple[Draft, ...]:
        return tuple(row.draft for row in self.rows)


def same_request(draft: Draft) -> tuple[object, ...]:
    """What makes two requests the same request: who asks, where, and why."""
    return (
        draft.organization_id,
        draft.district_id,
        None if draft.latitude is None else round(draft.latitude, 6),
        None if draft.longitude is None else round(draft.longitude, 6),
        (draft.address or "").casefold(),
        draft.justification.casefold(),
    )


def parse_csv(data: bytes) -> ParsedFile:
    """The rows of a CSV file with a header line; rows whose cells are all blank are skipped."""
    try:
        text = decode_text(data)
    except RegistryFileError as exc:
        raise RequestFileError(str(exc)) from exc
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=header_delimiter(text), strict=True
    )
    header: list[str] | None = None
    fields: list[str | None] = []
    rows: list[tuple[str, Mapping[str, str]]] = []
    misshapen: list[RowProblem] = []
    last_line = 0
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                fields = _fields(header)
                continue
            where = f"line {first_line}"
            if len(cells) != len(header):
                misshapen.append(
                    RowProblem(
                        where,
                        (f"has {len(cells)} values but the header has {len(header)} columns",),
                    )
                )
                continue
            if len(rows) + len(misshapen) >= MAX_ROWS:
                raise RequestFileError(f"more than {MAX_ROWS} rows: split the file")
            rows.append(
                (
                    where,
                    {
                        field: unquote(cell)
                        for field, cell in zip(fields, cells, strict=True)
                        if field is not None
                    },
                )
            )
    except csv.Error as exc:
        raise RequestFileError(f"not valid CSV at line {reader.line_num}: {exc}") from exc
    if header is None:
        raise RequestFileError("empty file: expected a CSV header line naming the columns")
    columns = {field: name for field, name in zip(fields, header, strict=True) if field}
    ignored = tuple(name for field, name in zip(fields, header, strict=True) if not field and name)
    return ParsedFile(tuple(rows), tuple(misshapen), columns, ignored)


def _fields(header: list[str]) -> list[str | None]:
    """The field each column gives (None: ignored), or RequestFileError saying why not."""
    keys = [header_key(name) for name in header]
    repeated = sorted({key for key in keys if key and keys.count(key) > 1})
    if repeated:
        raise RequestFileError(f"header repeats columns: {', '.join(repeated)}")
    named = [_FIELD_OF.get(key) for key in keys]
    for field in COLUMNS:
        spelled = [name for name, found in zip(header, named, strict=True) if found == field]
        if len(spelled) > 1:
            own = [name for name in spelled if header_key(name) == field]
            if len(own) != 1:
                listed = ", ".join(map(repr, spelled))
                raise RequestFileError(f"columns {listed} would all be {field}: remove all but one")
            named = [
                None if found == field and header_key(name) != field else found
                for name, found in zip(header, named, strict=True)
            ]
    present = set(named)
    if "justification" not in present:
        raise RequestFileError(
            "header lacks the justification column (also read from: "
            f"{', '.join(ALIASES['justification'])}); the header line is {','.join(header)!r}"
        )
    if not ({"latitude", "longitude"} <= present or {"address", "district"} <= present):
        raise RequestFileError(
            "header needs latitude and longitude columns, or address and district columns, "
            f"to place each request; the header line is {','.join(header)!r}"
        )
    return named


def validate(
    parsed: ParsedFile,
    context: ImportContext,
    submitter: Submitter,
    *,
    default_organization: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Check every row: a ``Draft`` or a ``RowProblem`` each, in file order (rows of the
    wrong width first, as the file is read). Two rows that are the same request, or a row
    that is a request stored already (by its number, or by who asks, where and why, whatever
    its status), are problems: nothing is asked for twice."""
    total = len(parsed.rows)
    if progress is not None:
        progress(0, total)
    checked: list[CheckedRow] = []
    problems: list[RowProblem] = list(parsed.misshapen)
    seen: dict[tuple[object, ...], str] = {}
    for index, (where, values) in enumerate(parsed.rows):
        number = (values.get(NUMBER) or "").strip()
        result = (
            RowProblem(where, (context.already(number),))
            if context.holds(number, submitter)
            else _check_row(where, values, context, submitter, default_organization)
        )
        if isinstance(result, CheckedRow):
            key = same_request(result.draft)
            stored = context.stored.get(key)
            if stored is not None:
                problems.append(RowProblem(where, (context.already(stored),)))
            elif key in seen:
                problems.append(RowProblem(where, (f"the same request as {seen[key]}",)))
            else:
                seen[key] = where
                checked.append(result)
        else:
            problems.append(result)
        if progress is not None and (index + 1) % _PROGRESS_STEP == 0:
            progress(index + 1, total)
    if progress is not None:
        progress(total, total)
    return Validation(tuple(checked), tuple(problems))


def _check_row(
    where: str,
    values: Mapping[str, str],
    context: ImportContext,
    submitter: Submitter,
    default_organization: str | None,
) -> CheckedRow | RowProblem:
    problems: list[str] = []

    def text(field: str, *, limit: int | None = None, multiline: bool = False) -> str | None:
        value = (values.get(field) or "").strip()
        if not value:
            return None
        problem = text_problem(value, multiline=multiline)
        if problem:
            problems.append(f"{field}: {problem}")
        if limit is not None and len(value) > limit:
            problems.append(f"{field}: {len(value)} characters, at most {limit} fit")
        return value

    role = role_problem(submitter)
    if role:
        return RowProblem(where, (role,))
    named = text("organization") or default_organization
    organization = (
        context.organizations.get(named)
        if named is not None
        else context.organizations_by_id.get(submitter.organization_id or 0)
    )
    reason = organization_problem(submitter, organization, named)
    if reason:
        problems.append(reason)
    position = _position(values, problems)
    address = text("address", limit=_ADDRESS_LENGTH, multiline=True)
    district_id = _district(values.get("district"), position, context, problems)
    if position is None and district_id is not None and address is None:
        problems.append("address: required when the row has no latitude and longitude")
    if (
        district_id is None
        and position is None
        and not any(
            p.startswith(("position", "latitude", "longitude", "district")) for p in problems
        )
    ):
        problems.append("position: give latitude and longitude, or an address and a district")
    if organization is not None and district_id is not None and reason is None:
        outside = district_problem(
            submitter, organization, district_id, context.district_names[district_id]
        )
        if outside:
            problems.append(outside)
    site_code = text("site")
    site = context.sites.get(site_code) if site_code else None
    reason = site_problem(submitter, site, site_code, district_id)
    if reason:
        problems.append(reason)
    urgency = _urgency(values.get("urgency"), problems)
    justification = text("justification", limit=MAX_JUSTIFICATION, multiline=True)
    if justification is None:
        problems.append("justification: missing (required): say why a camera is needed there")
    if problems:
        return RowProblem(where, tuple(problems))
    assert organization is not None and district_id is not None and justification is not None
    return CheckedRow(
        where,
        Draft(
            organization_id=organization.id,
            district_id=district_id,
            justification=justification,
            urgency=urgency,
            latitude=None if position is None else position[0],
            longitude=None if position is None else position[1],
            address=address,
            site_id=None if site is None else site.id,
        ),
    )


def _position(values: Mapping[str, str], problems: list[str]) -> tuple[float, float] | None:
    """(latitude, longitude) when the row gives both, in range; problems otherwise."""
    cells = {field: (values.get(field) or "").strip() for field in ("latitude", "longitude")}
    if not any(cells.values()):
        return None
    numbers: dict[str, float] = {}
    for field, cell in cells.items():
        if not cell:
            problems.append(f"{field}: missing (the other coordinate is given)")
            continue
        number = finite_number(cell)
        if number is None:
            hint = " (use a dot as the decimal separator)" if "," in cell else ""
            problems.append(f"{field}: {cell!r} is not a number{hint}")
        else:
            numbers[field] = number
    if len(numbers) != 2:
        return None
    latitude, longitude = numbers["latitude"], numbers["longitude"]
    if not valid_coordinates(latitude, longitude):
        problems.append(
            f"position: latitude {latitude!r}, longitude {longitude!r} is out of range "
            "(latitude -90..90, longitude -180..180)"
        )
        return None
    return latitude, longitude


def _district(
    stated: str | None,
    position: tuple[float, float] | None,
    context: ImportContext,
    problems: list[str],
) -> int | None:
    """The district of the row: its position's (cross-checked with a stated one), else the
    one it names."""
    stated = (stated or "").strip() or None
    stated_ids = context.district_keys.get(stated.casefold()) if stated else None
    if stated is not None and stated_ids is None:
        problems.append(f"district: unknown district {stated!r}")
    if position is not None:
        latitude, longitude = position
        found = context.locator.locate(latitude, longitude)
        if found is None:
            reason = (
                f"position: latitude {latitude!r}, longitude {longitude!r} "
                "lies outside every district"
            )
            swapped = (
                context.locator.locate(longitude, latitude)
                if valid_coordinates(longitude, latitude)
                else None
            )
            if swapped is not None:
                reason += (
                    " (with latitude and longitude swapped it would lie in "
                    f"{context.district_names[swapped]!r})"
                )
            problems.append(reason)
            return None
        if stated_ids is not None and found not in stated_ids:
            problems.append(
                f"district: the file says {stated!r} but the position lies in "
                f"{context.district_names[found]!r}"
            )
            return None
        return found
    if stated_ids is None:
        return None
    if len(stated_ids) > 1:
        problems.append(f"district: {stated!r} names more than one district: use its code")
        return None
    return next(iter(stated_ids))


def _urgency(value: str | None, problems: list[str]) -> Urgency:
    text = (value or "").strip().casefold()
    if not text:
        return Urgency.NORMAL
    try:
        return Urgency(text)
    except ValueError:
        allowed = ", ".join(urgency.value for urgency in Urgency)
        problems.append(f"urgency: {value!r} is not one of {allowed}")
        return Urgency.NORMAL


def serialise(rows: Iterable[Mapping[str, object]], columns: Iterable[str]) -> str:
    """CSV text of ``rows`` under the header ``columns`` (an export of requests). A text cell
    a spreadsheet would run as a formula is written behind a single quote (``quote``)."""
    out = io.StringIO(newline="")
    names = list(columns)
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: quote(row.get(name)) for name in names})
    return out.getvalue()


def quote(value: object) -> object:
    """``value`` as an export cell: text starting with ``FORMULA_STARTS`` (after any quotes)
    behind one more single quote, so a spreadsheet shows it as text instead of running it;
    numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value  # quotes before a formula too, so that ``unquote`` undoes it
    return value


def unquote(cell: str) -> str:
    """An import cell with the one quote ``quote`` put before a formula's start taken off."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
