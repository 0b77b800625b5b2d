"""The arithmetic of the KPIs: spreads (P50/P90), shares, rates per residents, the calendar
periods a span is cut into, and the hours a camera was expected to record. Pure: no database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from safecity.ops.incidents.sla import percentile

LONGEST_PERIOD = timedelta(days=366 * 5)
"""A KPI period covers at most five years (twenty quarters)."""
MONTHS_UP_TO = 24
"""Periods of up to this many calendar months are broken down by month, longer by quarter."""
QUARTER_HOUR = timedelta(minutes=15)
HOUR = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""No KPI period starts before it (the figures count time from it)."""


class KpiError(ValueError):
    """A KPI question that cannot be answered as asked; the message says why."""


def check_period(since: datetime, until: datetime) -> None:
    """Raise :class:`KpiError` unless ``since`` < ``until`` and the span is at most five years."""
    if since.tzinfo is None or until.tzinfo is None:
        raise KpiError("since and until need a time zone (e.g. 2026-03-01T00:00:00+05:00)")
    if until <= since:
        raise KpiError("until must come after since")
    if since < EPOCH:
        raise KpiError("since must be on or after 1970-01-01: no figures reach further back")
    if until - since > LONGEST_PERIOD:
        raise KpiError("a KPI period covers at most five years: ask a shorter one")


@dataclass(frozen=True)
class Spread:
    """How long something took over ``count`` cases: the median and the 90th percentile."""

    count: int
    p50_seconds: float | None
    p90_seconds: float | None


def spread(values: Sequence[float]) -> Spread:
    return Spread(len(values), percentile(values, 0.5), percentile(values, 0.9))


def share(part: float, whole: float) -> float | None:
    """``part / whole``, or None where there is nothing to divide (never a made-up 0 %)."""
    return part / whole if whole > 0 else None


def per_10k(count: int, population: int | None) -> float | None:
    """Cases per 10,000 residents; None where the district's population is not known."""
    if not population or population <= 0:
        return None
    return count * 10_000 / population


@dataclass(frozen=True)
class CalendarPeriod:
    label: str
    """``2026-03`` for a month, ``2026-Q1`` for a quarter."""
    start: datetime
    end: datetime
    """Both UTC; the first starts at ``since`` and the last ends at ``until`` of the question."""


def _month_start(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def calendar_periods(since: datetime, until: datetime, zone: tzinfo) -> list[CalendarPeriod]:
    """The city's calendar months (or quarters, beyond ``MONTHS_UP_TO`` months) that
    ``[since, until)`` touches, each cut to the span."""
    first = since.astimezone(zone).date().replace(day=1)
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = 1 if months <= MONTHS_UP_TO else 3
    if step == 3:
        first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    periods: list[CalendarPeriod] = []
    start_day = first
    while True:
        start = datetime.combine(start_day, time(0), zone).astimezone(UTC)
        if start >= until:
            break
        end_day = _month_start(start_day, step)
        end = datetime.combine(end_day, time(0), zone).astimezone(UTC)
        label = (
            f"{start_day.year}-{start_day.month:02d}"
            if step == 1
            else f"{start_day.year}-Q{(start_day.month - 1) // 3 + 1}"
        )
        periods.append(CalendarPeriod(label, max(start, since), min(end, until)))
        start_day = end_day
    return periods


@dataclass(frozen=True)
class OffsetSpan:
    start: datetime
    """UTC; the span runs to the next one's start (the last to the end of the question)."""
    quarters: int
    """The city's UTC offset in quarter-hours (Asia/Almaty: +20)."""


def offset_spans(since: datetime, until: datetime, zone: tzinfo) -> list[OffsetSpan]:
    """Where the city's UTC offset changes within ``[since, until)`` (daylight saving), found
    to the quarter-hour: a zone changes its offset at most a few times a year."""

    def quarters_at(moment: datetime) -> int:
        offset = moment.astimezone(zone).utcoffset() or timedelta(0)
        return int(offset / QUARTER_HOUR)

    utc = since.astimezone(UTC)
    spans = [OffsetSpan(since, quarters_at(since))]
    moment = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    while moment < until:
        # Hour steps; a change found within one is narrowed down to its quarter-hour.
        following = min(moment + HOUR, until)
        if quarters_at(following) != spans[-1].quarters:
            probe = moment
            while quarters_at(probe) == spans[-1].quarters:
                probe += QUARTER_HOUR
            spans.append(OffsetSpan(probe, quarters_at(probe)))
        moment = following
    return spans


def local_hour(utc_quarter_of_day: int, offset_quarters: int) -> int:
    """The city's hour of day (0 … 23) of a UTC quarter-hour of the day."""
    return ((utc_quarter_of_day + offset_quarters) % 96) // 4


def expected_window(
    since: datetime,
    until: datetime,
    *,
    now: datetime,
    registered_at: datetime,
    installed_on: date | None,
    zone: tzinfo,
) -> tuple[datetime, datetime] | None:
    """The part of ``[since, until)`` a camera was expected to record: not before it was
    registered in SafeCity nor before the day it was installed, not after now. None: none."""
    start = max(since, registered_at)
    if installed_on is not None:
        start = max(start, datetime.combine(installed_on, time(0), zone).astimezone(UTC))
    end = min(until, now)
    return (start, end) if end > start else None


def clock_hours(start: datetime, end: datetime) -> int:
    """How many UTC clock hours ``[start, end)`` touches (an hour is "up" when a camera recorded
    anything in it)."""
    if end <= start:
        return 0
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return math.ceil((end - first) / HOUR)
