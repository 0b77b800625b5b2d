"""Report periods as people write them, in the city's own calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from safecity.insights.reports.period import PeriodError, parse_period


def test_a_quarter_its_previous_quarter_and_the_same_quarter_a_year_earlier() -> None:
    quarter = parse_period("2026-Q3")
    assert (quarter.start, quarter.end, quarter.code) == (
        date(2026, 7, 1),
        date(2026, 10, 1),
        "2026-Q3",
    )
    assert quarter.label == "Q3 2026 (July–September)"
    assert quarter.previous().code == "2026-Q2"
    assert quarter.year_before().code == "2025-Q3"
    assert parse_period("2026-q1").previous().code == "2025-Q4"


def test_a_month_and_a_year() -> None:
    assert parse_period("2026-01").previous().code == "2025-12"
    assert parse_period("2026-12").end == date(2027, 1, 1)
    assert parse_period("2026-10").label == "October 2026"
    year = parse_period("2026")
    assert (year.start, year.end, year.previous().code) == (
        date(2026, 1, 1),
        date(2027, 1, 1),
        "2025",
    )


def test_a_period_runs_from_the_citys_midnight() -> None:
    start, end = parse_period("2026-Q3").bounds(ZoneInfo("Asia/Almaty"))
    assert start.astimezone(UTC) == datetime(2026, 6, 30, 19, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 9, 30, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2026-Q5", "2026-13", "2026-00", "26-Q1", "Q3 2026", "", "2026-Q3x"]
)
def test_a_period_written_otherwise_is_refused_saying_how_to_write_one(text: str) -> None:
    with pytest.raises(PeriodError, match=r"a quarter \(2026-Q3\)"):
        parse_period(text)
