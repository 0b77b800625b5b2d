"""The bounds of everything a person or a machine may send SafeCity: ids, offsets, times, map
positions, text and free-form JSON.

Each is a type that pydantic checks and the OpenAPI spec shows, used in the API's request models
and parameters and by the importers, so an out-of-range value is a 422 naming the field, never a
database overflow (PostgreSQL's INTEGER ids end at 2^31), a date that overflows when moved to UTC, a
NaN stored in a JSON column, or a character that PostgreSQL refuses (NUL, lone surrogates).
The checks are pure functions, so the parsers built on them can be property-tested.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

MAX_ID = 2**31 - 1
"""Largest row id: ids are INTEGER columns, 32-bit on PostgreSQL, which refuses a larger value
compared with them (SQLAlchemy casts the parameter to the column's type)."""
MAX_OFFSET = 1_000_000_000
"""No list is paged this deep; beyond it the database would only overflow or crawl."""

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
"""The era SafeCity keeps data for. Far enough on both sides for old crime records and long
retention, near enough that any offset or a few years of arithmetic stays a valid datetime."""

MAX_DETAILS_BYTES = 16 * 1024
"""Free-form details of an alert or event: a few fields from a sensor, not a payload store.
Every alert list returns them, so a large blob would be sent again on every refresh."""
MAX_DETAILS_DEPTH = 8

# Bidirectional embeddings, overrides and isolates reorder what a reader sees ("Trojan
# Source"): a camera named "\u202eGNP.exe" shows as "exe.PNG". Plain Kazakh and Russian never
# need them.
_BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI_CONTROLS
_LINE_BREAKS = r"\t\n\r\u2028\u2029"
LINE_PATTERN = f"^[^{_CONTROLS}{_LINE_BREAKS}]*$"
"""One line of text: no control characters, bidirectional overrides or line breaks."""
PARAGRAPH_PATTERN = f"^[^{_CONTROLS}]*$"
"""Text that may span lines: tabs and line breaks allowed, other control characters not."""
LINE_RULE = "must be one line of text without control characters"
PARAGRAPH_RULE = "must be text without control characters"
_SURROGATES = r"\ud800-\udfff"
_FORBIDDEN_IN_PARAGRAPH = re.compile(f"[{_CONTROLS}{_SURROGATES}]")
_FORBIDDEN_IN_LINE = re.compile(f"[{_CONTROLS}{_LINE_BREAKS}{_SURROGATES}]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can.

    Refused everywhere: control characters (PostgreSQL refuses NUL outright; the rest garble
    exports and terminals), bidirectional overrides, and lone surrogates (not encodable as
    UTF-8). A single line also refuses tabs and line breaks. The API's ``Line`` and
    ``Paragraph`` say the same as patterns (pydantic refuses lone surrogates by itself).
    """
    found = (_FORBIDDEN_IN_PARAGRAPH if multiline else _FORBIDDEN_IN_LINE).search(value)
    if found is None:
        return None
    return f"contains a control character (U+{ord(found.group()):04X}) at position {found.start()}"


Line = Annotated[str, StringConstraints(pattern=LINE_PATTERN)]
"""A name, a code, a title: one line of printable text (give max_length where it is used)."""
Paragraph = Annotated[str, StringConstraints(pattern=PARAGRAPH_PATTERN)]
"""A note, a summary, a reason: printable text that may span lines."""


Id = Annotated[int, Field(ge=1, le=MAX_ID, description="A row id (1 to 2^31-1).")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="Rows to skip.")]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def moment_problem(value: datetime) -> str | None:
    """Why an aware datetime is outside SafeCity's era, or None when it is inside."""
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:
        day = date.min if value.year < FIRST_DAY.year else date.max
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()} (UTC)"


def _in_era(value: datetime) -> datetime:
    problem = moment_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _day_in_era(value: date) -> date:
    if FIRST_DAY <= value <= LAST_DAY:
        return value
    raise ValueError(f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")


Moment = Annotated[AwareDatetime, AfterValidator(_in_era)]
"""A point in time with its UTC offset, inside SafeCity's era."""
Day = Annotated[date, AfterValidator(_day_in_era)]
"""A calendar day inside SafeCity's era."""


def details_problem(value: Any) -> str | None:
    """Why a free-form JSON value cannot be stored as details, or None when it can: it must be
    finite (no NaN or Infinity: JSON has neither), hold only storable text, stay within
    ``MAX_DETAILS_DEPTH`` levels and serialize to at most ``MAX_DETAILS_BYTES``."""
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except ValueError:
        return "numbers must be finite (no NaN or Infinity)"
    except (TypeError, RecursionError):
        return "must be plain JSON"
    if len(encoded.encode("utf-8", "surrogatepass")) > MAX_DETAILS_BYTES:
        return f"is larger than {MAX_DETAILS_BYTES // 1024} KiB as JSON"
    return _nested_problem(value, depth=0)


def _nested_problem(value: Any, *, depth: int) -> str | None:
    if depth > MAX_DETAILS_DEPTH:
        return f"nests deeper than {MAX_DETAILS_DEPTH} levels"
    if isinstance(value, str):
        problem = text_problem(value, multiline=True)
        return f"text {problem}" if problem else None
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = _nested_problem(item, depth=depth + 1)
        if problem:
            return problem
    return None


def _storable_details(value: dict[str, Any]) -> dict[str, Any]:
    problem = details_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Details = Annotated[
    dict[str, Any],
    AfterValidator(_storable_details),
    Field(description=f"Free-form JSON object, at most {MAX_DETAILS_BYTES // 1024} KiB."),
]
