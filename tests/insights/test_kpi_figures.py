"""The KPIs' arithmetic, checked against values worked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from safecity.insights.kpis import figures
from safecity.insights.kpis.figures import KpiError

ALMATY = ZoneInfo("Asia/Almaty")
BERLIN = ZoneInfo("Europe/Berlin")


def test_spread_interpolates_between_ranks_as_numpy_does() -> None:
    found = figures.spread([600.0, 120.0, 60.0])
    assert found == figures.Spread(3, 120.0, 504.0)  # 120 + 0.8 × (600 - 120)
    assert figures.spread([30.0, 90.0]) == figures.Spread(2, 60.0, 84.0)
    assert figures.spread([]) == figures.Spread(0, None, None)


def test_share_and_rate_per_10k_say_nothing_rather_than_zero() -> None:
    assert figures.share(3, 5) == pytest.approx(0.6)
    assert figures.share(0, 0) is None
    assert figures.per_10k(3, 50_000) == pytest.approx(0.6)
    assert figures.per_10k(3, None) is None


def test_periods_are_the_citys_months_cut_to_the_span() -> None:
    since = datetime(2026, 1, 15, tzinfo=ALMATY)
    until = datetime(2026, 3, 10, tzinfo=ALMATY)
    periods = figures.calendar_periods(since, until, ALMATY)
    assert [p.label for p in periods] == ["2026-01", "2026-02", "2026-03"]
    assert periods[0].start == since and periods[-1].end == until
    # February starts at the city's midnight: 19:00 UTC the day before.
    assert periods[1].start == datetime(2026, 1, 31, 19, tzinfo=UTC)


def test_periods_longer_than_two_years_are_quarters() -> None:
    since = datetime(2024, 2, 1, tzinfo=ALMATY)
    until = datetime(2026, 8, 1, tzinfo=ALMATY)
    labels = [p.label for p in figures.calendar_periods(since, until, ALMATY)]
    assert labels[0] == "2024-Q1" and labels[-1] == "2026-Q3" and len(labels) == 11


def test_bad_periods_are_refused_in_words() -> None:
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(KpiError, match="until must come after since"):
        figures.check_period(moment, moment - timedelta(hours=1))
    with pytest.raises(KpiError, match="at most five years"):
        figures.check_period(moment - timedelta(days=2000), moment)


def test_hour_of_day_follows_the_offset_and_its_summer_change() -> None:
    assert figures.local_hour(40, 20) == 15  # 10:00 UTC in Almaty (+5)
    assert figures.local_hour(90, 20) == 3  # 22:30 UTC → 03:30 next day
    spans = figures.offset_spans(
        datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC), BERLIN
    )
    # Berlin goes from +1 to +2 at 01:00 UTC on the last Sunday of March.
    assert [(s.start, s.quarters) for s in spans] == [
        (datetime(2026, 3, 28, tzinfo=UTC), 4),
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 8),
    ]


def test_expected_window_starts_at_registration_or_installation_and_stops_now() -> None:
    since = datetime(2026, 3, 1, tzinfo=UTC)
    until = datetime(2026, 3, 3, tzinfo=UTC)
    window = figures.expected_window(
        since,
        until,
        now=datetime(2026, 3, 2, 12, tzinfo=UTC),
        registered_at=datetime(2026, 1, 1, tzinfo=UTC),
        installed_on=date(2026, 3, 2),
        zone=ALMATY,
    )
    assert window == (datetime(2026, 3, 1, 19, tzinfo=UTC), datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert figures.clock_hours(*window) == 17
    assert figures.clock_hours(since, since + timedelta(minutes=90)) == 2
    later = datetime(2026, 4, 1, tzinfo=UTC)
    assert (
        figures.expected_window(
            since, until, now=later, registered_at=later, installed_on=None, zone=ALMATY
        )
        is None
    )
