"""The pure figures: changes with absolute numbers, calendar periods in the city's zone, and
the difference-in-differences rate ratio against cases worked by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.insights.statistics import (
    Change,
    CountedCrime,
    Period,
    PeriodKind,
    rate_ratio,
    tabulate,
)

MINUS = "\N{MINUS SIGN}"
ALMATY = ZoneInfo("Asia/Almaty")


def test_a_change_carries_its_absolute_numbers() -> None:
    assert Change(8502, 4000).text == f"{MINUS}53.0% (4,502 fewer of 8,502)"
    assert Change(3381, 1752).text == f"{MINUS}48.2% (1,629 fewer of 3,381)"
    assert Change(120, 135).text == "+12.5% (15 more than 120)"
    assert Change(7, 7).text == "no change (7 both times)"


def test_a_change_too_small_for_a_tenth_of_a_percent_has_no_sign() -> None:
    assert Change(4000, 4001).text == "0.0% (1 more than 4,000)"
    assert Change(4001, 4000).text == "0.0% (1 fewer of 4,001)"
    assert Change(4000, 4003).text == "+0.1% (3 more than 4,000)"


def test_a_percentage_is_rounded_half_away_from_zero() -> None:
    # 1/8 = 12.5% exactly; 1/16 = 6.25% -> 6.3 (binary float rounding would say 6.2).
    assert Change(16, 17).percent == 6.3
    assert Change(16, 15).percent == -6.3


def test_no_percentage_from_zero() -> None:
    change = Change(0, 9)
    assert change.percent is None
    assert change.difference == 9
    assert change.text == "from none to 9 (no percentage from zero)"


def test_did_worked_by_hand_with_an_interval_that_includes_one() -> None:
    """Treated districts 200 -> 150, control 300 -> 285.

    IRR = (150/200) / (285/300) = 0.75 / 0.95 = 0.78947
    SE  = sqrt(1/200 + 1/150 + 1/300 + 1/285)
        = sqrt(0.005 + 0.0066667 + 0.0033333 + 0.0035088) = sqrt(0.0185088) = 0.136047
    ln IRR = -0.236389; 1.959964 x 0.136047 = 0.266647
    95% CI = exp(-0.236389 -/+ 0.266647) = exp(-0.503036) .. exp(0.030258) = 0.6047 .. 1.0307
    The interval includes 1: the data cannot tell a 21% relative fall from none.
    Following the control's trend the treated would have counted 200 x 285/300 = 190.
    """
    ratio = rate_ratio(Change(200, 150), Change(300, 285))
    assert ratio.irr == pytest.approx(0.78947, abs=1e-5)
    assert ratio.low == pytest.approx(0.6047, abs=1e-4)
    assert ratio.high == pytest.approx(1.0307, abs=1e-4)
    assert ratio.significant is False
    assert ratio.percent == -21.1
    assert ratio.expected_treated_after == pytest.approx(190.0)
    assert ratio.reason is None


def test_did_worked_by_hand_with_an_interval_below_one() -> None:
    """Treated 1,000 -> 700, control 1,000 -> 950.

    IRR = 0.70 / 0.95 = 0.736842; ln IRR = -0.305382
    SE  = sqrt(1/1000 + 1/700 + 1/1000 + 1/950) = sqrt(0.0044812) = 0.066942
    95% CI = exp(-0.305382 -/+ 1.959964 x 0.066942) = exp(-0.436587) .. exp(-0.174177)
           = 0.6462 .. 0.8401: below 1.
    """
    ratio = rate_ratio(Change(1000, 700), Change(1000, 950))
    assert ratio.irr == pytest.approx(0.736842, abs=1e-6)
    se = math.sqrt(1 / 1000 + 1 / 700 + 1 / 1000 + 1 / 950)
    assert se == pytest.approx(0.066942, abs=1e-6)
    assert (ratio.low, ratio.high) == (
        pytest.approx(0.6462, abs=1e-4),
        pytest.approx(0.8401, abs=1e-4),
    )
    assert ratio.significant is True


def test_did_with_an_empty_control_after_has_no_ratio_and_says_why() -> None:
    ratio = rate_ratio(Change(40, 30), Change(12, 0))
    assert (ratio.irr, ratio.low, ratio.high) == (None, None, None)
    assert ratio.reason is not None and "control after" in ratio.reason


def test_did_with_no_treated_crimes_after_has_no_interval() -> None:
    ratio = rate_ratio(Change(5, 0), Change(50, 45))
    assert ratio.irr == 0.0
    assert (ratio.low, ratio.high) == (None, None)
    assert ratio.reason is not None and "no interval" in ratio.reason


def test_quarters_follow_the_citys_calendar() -> None:
    # 31 March 20:00 UTC is 1 April in Almaty (UTC+5 or +6): the second quarter there.
    moment = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    assert Period.of(PeriodKind.QUARTER, moment, ALMATY).label == "2026-Q2"
    assert Period.of(PeriodKind.QUARTER, moment, UTC).label == "2026-Q1"
    quarter = Period.parse(PeriodKind.QUARTER, "2026-q2")
    assert quarter.start(ALMATY) == datetime(2026, 4, 1, tzinfo=ALMATY)
    assert quarter.year_ago.label == "2025-Q2"
    assert Period.parse(PeriodKind.MONTH, "2026-01").shifted(-1).label == "2025-12"
    with pytest.raises(ValueError, match="like 2026-Q1"):
        Period.parse(PeriodKind.QUARTER, "2026-Q5")


def _crime(year: int, month: int) -> CountedCrime:
    return CountedCrime(
        datetime(year, month, 10, tzinfo=ALMATY), 1, CrimeKind.THEFT, PlaceKind.STREET
    )


def test_a_period_before_the_records_begin_gets_no_comparison() -> None:
    crimes = [_crime(2025, 11)] * 3 + [_crime(2026, 2)] * 4 + [_crime(2026, 11)] * 2
    table = tabulate(
        crimes,
        PeriodKind.QUARTER,
        ALMATY,
        first=Period.parse(PeriodKind.QUARTER, "2026-Q1"),
        last=Period.parse(PeriodKind.QUARTER, "2026-Q4"),
        records_begin=datetime(2025, 10, 1, tzinfo=ALMATY),
    )
    rows = {row.period.label: row for row in table.periods}
    assert rows["2026-Q1"].count == 4
    assert rows["2026-Q1"].previous == Change(3, 4)
    # 2025-Q1 lies before the first record: no "year ago", not a zero.
    assert rows["2026-Q1"].year_ago is None
    assert rows["2026-Q4"].year_ago == Change(3, 2)
    assert table.total == 6
    assert table.by_place[PlaceKind.STREET] == 6
