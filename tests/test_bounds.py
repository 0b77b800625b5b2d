"""Property tests of the parsers every request goes through: ids, times, cursors, text, free-form
details and map positions. Whatever the input, each either gives a value inside its bounds or
refuses it with its own error, never another exception (which the API would answer as a 500)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from fastapi import HTTPException
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from safecity.api import paging
from safecity.bounds import (
    FIRST_DAY,
    LAST_DAY,
    LINE_PATTERN,
    MAX_DETAILS_BYTES,
    MAX_ID,
    PARAGRAPH_PATTERN,
    Day,
    Details,
    Id,
    Latitude,
    Line,
    Moment,
    Paragraph,
    details_problem,
    text_problem,
)
from safecity.city.geo import DistrictArea, DistrictLocator
from tests import factories as f

IDS = TypeAdapter(Id)
MOMENTS = TypeAdapter(Moment)
DAYS = TypeAdapter(Day)
LINES = TypeAdapter(Line)
PARAGRAPHS = TypeAdapter(Paragraph)
DETAILS = TypeAdapter(Details)
LATITUDES = TypeAdapter(Latitude)

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware = st.datetimes(timezones=offsets)


@given(st.integers())
@example(MAX_ID + 1)
@example(0)
def test_an_id_is_taken_exactly_when_a_store_can_hold_it(value: int) -> None:
    try:
        taken = IDS.validate_python(value)
    except ValidationError:
        assert not 1 <= value <= MAX_ID
    else:
        assert taken == value and 1 <= value <= MAX_ID


@given(st.text(max_size=40))
def test_an_id_from_text_is_a_number_in_range_or_refused(text: str) -> None:
    try:
        taken = IDS.validate_strings(text)
    except ValidationError:
        return
    assert 1 <= taken <= MAX_ID


@given(aware)
@example(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
@example(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))))
def test_a_moment_is_taken_exactly_inside_the_era_in_utc(value: datetime) -> None:
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    inside = in_utc is not None and FIRST_DAY <= in_utc.date() <= LAST_DAY
    try:
        taken = MOMENTS.validate_python(value)
    except ValidationError:
        assert not inside
    else:
        assert inside and taken == value
        # what the handlers do with it never overflows: days either side, in UTC
        assert (taken.astimezone(UTC) + timedelta(days=400)).year <= LAST_DAY.year + 2


@given(st.text(max_size=40))
@example("0001-01-01T00:00:00+14:00")
@example("2026-11-20T09:00:00")
def test_a_moment_from_text_is_aware_and_in_the_era_or_refused(text: str) -> None:
    try:
        taken = MOMENTS.validate_strings(text)
    except ValidationError:
        return
    assert taken.tzinfo is not None
    assert FIRST_DAY <= taken.astimezone(UTC).date() <= LAST_DAY


@given(st.dates())
def test_a_day_is_taken_exactly_inside_the_era(value: date) -> None:
    try:
        DAYS.validate_python(value)
    except ValidationError:
        assert not FIRST_DAY <= value <= LAST_DAY
    else:
        assert FIRST_DAY <= value <= LAST_DAY


@given(
    st.integers(min_value=1, max_value=4),
    st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=MAX_ID),
)
def test_a_cursor_names_back_what_it_was_made_of(priority: int, at: datetime, row_id: int) -> None:
    assert paging.decode(paging.encode(priority, at, row_id)) == (priority, at, row_id)


cursor_parts = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
    aware.map(datetime.isoformat),
)


@given(st.one_of(st.text(max_size=200), st.lists(cursor_parts, max_size=4).map(json.dumps)))
@example("W1swXV0")
@example("WzEsICIwMDAxLTAxLTAxVDAwOjAwOjAwKzE0OjAwIiwgMV0")
def test_any_cursor_is_in_bounds_or_a_422(text: str) -> None:
    import base64

    for cursor in (text, base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")):
        try:
            priority, at, row_id = paging.decode(cursor)
        except HTTPException as exc:
            assert exc.status_code == 422
            continue
        assert 0 <= priority <= paging.MAX_PRIORITY and 1 <= row_id <= MAX_ID
        assert FIRST_DAY <= at.astimezone(UTC).date() <= LAST_DAY


@given(st.text())
@example("\u202egnp.exe")
@example("\ud800")
@example("line\n")
def test_the_text_rule_and_the_api_patterns_agree(text: str) -> None:
    for adapter, multiline, pattern in (
        (LINES, False, LINE_PATTERN),
        (PARAGRAPHS, True, PARAGRAPH_PATTERN),
    ):
        try:
            adapter.validate_python(text)
        except ValidationError:
            accepted = False
        else:
            accepted = True
        assert accepted == (text_problem(text, multiline=multiline) is None), pattern


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_details_are_stored_only_when_plain_finite_and_small(value: dict[str, object]) -> None:
    problem = details_problem(value)
    try:
        DETAILS.validate_python(value)
    except ValidationError:
        assert problem is not None
        return
    assert problem is None
    encoded = json.dumps(value, allow_nan=False, ensure_ascii=False).encode()
    assert len(encoded) <= MAX_DETAILS_BYTES


def test_details_refuse_nan_deep_nesting_and_size() -> None:
    nested: object = "leaf"
    for _ in range(20):
        nested = [nested]
    assert details_problem({"v": math.nan}) == "numbers must be finite (no NaN or Infinity)"
    assert details_problem({"v": nested}) == "nests deeper than 8 levels"
    assert details_problem({"v": "x" * MAX_DETAILS_BYTES}) == "is larger than 16 KiB as JSON"
    assert details_problem({"v": "bell\u0007"}) is not None


@given(st.floats())
def test_a_latitude_is_finite_and_on_the_globe(value: float) -> None:
    try:
        LATITUDES.validate_python(value)
    except ValidationError:
        assert not -90 <= value <= 90  # NaN compares false too
    else:
        assert -90 <= value <= 90


LOCATOR = DistrictLocator(
    [
        DistrictArea(1, "west", f.square(f.WEST)),
        DistrictArea(2, "east", f.square(f.EAST)),
    ]
)


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=51.0, max_value=51.3), st.floats(min_value=71.2, max_value=71.6)
        ),
        max_size=20,
    )
)
def test_a_position_falls_in_the_district_that_contains_it(
    positions: list[tuple[float, float]],
) -> None:
    found = LOCATOR.locate_many(positions)
    assert found == [LOCATOR.locate(lat, lon) for lat, lon in positions]
    for (lat, lon), district in zip(positions, found, strict=True):
        inside_west = 51.10 <= lat <= 51.20 and 71.30 <= lon <= 71.40
        inside_east = 51.10 <= lat <= 51.20 and 71.40 <= lon <= 71.50
        expected = 1 if inside_west else 2 if inside_east else None
        assert district == expected, (lat, lon)


def test_the_patterns_are_plain_ecmascript_classes() -> None:
    """OpenAPI clients read the patterns with ECMAScript regexes: keep them to \\x and \\u
    escapes in one negated class."""
    for pattern in (LINE_PATTERN, PARAGRAPH_PATTERN):
        assert re.fullmatch(r"\^\[\^(\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\[tnr]|-)+\]\*\$", pattern)


@pytest.mark.parametrize("value", ["\u202e", "\u0000", "\u0007", "\u2066"])
def test_the_control_characters_named_in_the_review_are_refused(value: str) -> None:
    assert text_problem(f"cam{value}") is not None
    with pytest.raises(ValidationError):
        LINES.validate_python(f"cam{value}")
