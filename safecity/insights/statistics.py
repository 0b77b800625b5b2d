"""Crime figures a criminologist would sign: counts by period, changes with their absolute
numbers, and difference-in-differences against a control with a rate ratio and its interval.

Pure: records and periods in, dataclasses out; no database, no clock. The service
(``statistics_service``) reads the records and the cameras' installation dates.

Three rules run through it:

- A change is never a percentage alone: it carries the counts before and after and the
  difference (``Change``), because "-53%" means something else of 17 crimes than of 8,502.
- Periods are calendar months, quarters or years in the city's time zone: a quarter starts at
  the city's midnight, not at UTC's.
- Where a figure cannot honestly be computed (a percentage from zero, a rate ratio with an
  empty cell) it is absent and ``reason`` says why, instead of an infinity or a zero.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import NormalDist

from safecity.city.crime_register import CrimeKind, PlaceKind

Z_95 = NormalDist().inv_cdf(0.975)
"""1.959964…: the normal quantile of a two-sided 95% interval."""


class PeriodKind(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self]


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month, quarter or year: ``index`` counts months, quarters or years from
    year 0 (so the next period is ``index + 1`` whatever the kind)."""

    kind: PeriodKind
    index: int

    @classmethod
    def of(cls, kind: PeriodKind, moment: datetime, zone: tzinfo) -> Period:
        """The period ``moment`` falls in, on the city's calendar."""
        local = moment.astimezone(zone)
        return cls(kind, (local.year * 12 + local.month - 1) // kind.months)

    @classmethod
    def parse(cls, kind: PeriodKind, text: str) -> Period:
        """From its label: ``2026`` (year), ``2026-Q1`` (quarter), ``2026-03`` (month);
        ValueError saying what was expected otherwise."""
        value = text.strip().upper()
        try:
            if kind is PeriodKind.YEAR:
                year, part = int(value), 0
            elif kind is PeriodKind.QUARTER:
                year_text, quarter_text = value.split("-Q")
                year, part = int(year_text), int(quarter_text) - 1
                if not 0 <= part < 4:
                    raise ValueError
            else:
                year_text, month_text = value.split("-")
                year, part = int(year_text), int(month_text) - 1
                if not 0 <= part < 12:
                    raise ValueError
        except ValueError:
            example = {"year": "2026", "quarter": "2026-Q1", "month": "2026-03"}[kind.value]
            raise ValueError(f"{text!r} is not a {kind.value} (like {example})") from None
        if not 1900 <= year <= 2199:
            raise ValueError(f"{text!r}: the year must be 1900 to 2199")
        return cls(kind, year * (12 // kind.months) + part)

    @property
    def first_month(self) -> tuple[int, int]:
        """(year, month) of its first month."""
        months = self.index * self.kind.months
        return months // 12, months % 12 + 1

    @property
    def label(self) -> str:
        year, month = self.first_month
        if self.kind is PeriodKind.YEAR:
            return str(year)
        if self.kind is PeriodKind.QUARTER:
            return f"{year}-Q{(month - 1) // 3 + 1}"
        return f"{year}-{month:02d}"

    def start(self, zone: tzinfo) -> datetime:
        """Its first instant: the city's midnight on its first day."""
        year, month = self.first_month
        return datetime(year, month, 1, tzinfo=zone)

    def end(self, zone: tzinfo) -> datetime:
        """The first instant after it (the next period's start)."""
        return self.shifted(1).start(zone)

    def shifted(self, periods: int) -> Period:
        return Period(self.kind, self.index + periods)

    @property
    def year_ago(self) -> Period:
        return self.shifted(-(12 // self.kind.months))


@dataclass(frozen=True)
class Change:
    """A count before and after, the difference, and the percentage (one decimal, half away
    from zero) where the count before is not zero."""

    before: int
    after: int

    @property
    def difference(self) -> int:
        return self.after - self.before

    @property
    def percent(self) -> float | None:
        if self.before == 0:
            return None
        exact = Fraction(100 * self.difference, self.before)
        rounded = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        return float(rounded)

    @property
    def text(self) -> str:
        """In words, the absolute numbers always beside the percentage:
        ``\N{MINUS SIGN}53.0% (4,502 fewer of 8,502)``, with a true minus sign."""
        percent = self.percent
        if percent is None:
            if self.after == 0:
                return "none before, none after"
            return f"from none to {self.after:,} (no percentage from zero)"
        if self.difference == 0:
            return f"no change ({self.before:,} both times)"
        # The sign follows the difference; none where the rounded percentage is nought.
        sign = "" if percent == 0 else "+" if self.difference > 0 else "\N{MINUS SIGN}"
        if self.difference < 0:
            counts = f"{-self.difference:,} fewer of {self.before:,}"
        else:
            counts = f"{self.difference:,} more than {self.before:,}"
        return f"{sign}{abs(percent):.1f}% ({counts})"


@dataclass(frozen=True)
class CountedCrime:
    """What the figures need of one crime record."""

    occurred_at: datetime
    district_id: int
    kind: CrimeKind
    place_kind: PlaceKind


@dataclass(frozen=True)
class PeriodCount:
    period: Period
    count: int
    previous: Change | None
    """Against the period before; None where that lies before the records begin."""
    year_ago: Change | None
    """Against the same period a year before; None where that lies before the records begin."""


@dataclass(frozen=True)
class Tabulation:
    periods: tuple[PeriodCount, ...]
    total: int
    by_district: Counter[int]
    by_kind: Counter[CrimeKind]
    by_place: Counter[PlaceKind]


def tabulate(
    crimes: Iterable[CountedCrime],
    kind: PeriodKind,
    zone: tzinfo,
    *,
    first: Period,
    last: Period,
    records_begin: datetime | None,
) -> Tabulation:
    """Counts per period from ``first`` to ``last`` (both included) with the change from the
    period before and from the same period a year before, and the totals of those periods by
    district, kind and place kind.

    ``crimes`` may reach back a year before ``first`` (for the comparisons); those earlier ones
    are counted only there. An earlier period that starts before ``records_begin`` (the first
    record the register holds) gets no comparison: a zero there would be an absence of data,
    not an absence of crime.
    """
    per_period: Counter[Period] = Counter()
    by_district: Counter[int] = Counter()
    by_kind: Counter[CrimeKind] = Counter()
    by_place: Counter[PlaceKind] = Counter()
    for crime in crimes:
        period = Period.of(kind, crime.occurred_at, zone)
        per_period[period] += 1
        if first <= period <= last:
            by_district[crime.district_id] += 1
            by_kind[crime.kind] += 1
            by_place[crime.place_kind] += 1

    def compared(earlier: Period, count: int) -> Change | None:
        if records_begin is None or earlier.start(zone) < records_begin.astimezone(zone):
            return None
        return Change(per_period[earlier], count)

    rows = []
    for index in range(first.index, last.index + 1):
        period = Period(kind, index)
        count = per_period[period]
        rows.append(
            PeriodCount(
                period, count, compared(period.shifted(-1), count), compared(period.year_ago, count)
            )
        )
    return Tabulation(tuple(rows), sum(row.count for row in rows), by_district, by_kind, by_place)


@dataclass(frozen=True)
class RateRatio:
    """Difference-in-differences as an incidence rate ratio:
    IRR = (treated_after / treated_before) / (control_after / control_before).

    Below 1: the treated areas fell more (or rose less) than the control. The 95% interval is
    the log method's: exp(ln IRR ± 1.96·SE), SE = sqrt(1/a + 1/b + 1/c + 1/d), which treats
    the four counts as independent Poisson counts. With any count zero there is no ratio or
    no interval, and ``reason`` says which count and why.
    """

    treated: Change
    control: Change
    irr: float | None
    low: float | None
    high: float | None
    reason: str | None

    @property
    def percent(self) -> float | None:
        """The treated areas' change beyond the control's, as a percentage (IRR - 1)."""
        if self.irr is None:
            return None
        return round((self.irr - 1) * 100, 1)

    @property
    def expected_treated_after(self) -> float | None:
        """What the treated areas would have counted after had they followed the control's
        trend: treated_before × control_after / control_before."""
        if self.control.before == 0:
            return None
        return self.treated.before * self.control.after / self.control.before

    @property
    def significant(self) -> bool | None:
        """The interval excludes 1 (no change); None without an interval."""
        if self.low is None or self.high is None:
            return None
        return self.high < 1 or self.low > 1


def rate_ratio(treated: Change, control: Change) -> RateRatio:
    """The difference-in-differences rate ratio of a treated and a control group."""
    cells = {
        "treated before": treated.before,
        "treated after": treated.after,
        "control before": control.before,
        "control after": control.after,
    }
    empty = [name for name, count in cells.items() if count == 0]
    if treated.before == 0 or control.before == 0 or control.after == 0:
        named = ", ".join(empty)
        return RateRatio(
            treated,
            control,
            None,
            None,
            None,
            f"no rate ratio: the count {named} is zero, so the ratio is undefined or unbounded",
        )
    if treated.after == 0:
        return RateRatio(
            treated,
            control,
            0.0,
            None,
            None,
            "no interval: the treated areas counted none after, so the ratio is 0 and its "
            "logarithm (on which the interval is built) is unbounded; too few crimes to judge",
        )
    irr = (treated.after / treated.before) / (control.after / control.before)
    se = math.sqrt(sum(1 / count for count in cells.values()))
    low = math.exp(math.log(irr) - Z_95 * se)
    high = math.exp(math.log(irr) + Z_95 * se)
    return RateRatio(treated, control, irr, low, high, None)


def group_change(counts: Sequence[Change]) -> Change:
    """The change of a group of areas: their counts added up."""
    return Change(sum(c.before for c in counts), sum(c.after for c in counts))


@dataclass(frozen=True)
class Caveat:
    title: str
    text: str


CAVEATS: tuple[Caveat, ...] = (
    Caveat(
        "A drop alone does not show the cameras caused it",
        "Crime changes for many reasons at once: the season, policing, the economy, how "
        "crimes are recorded. Compare the areas that got cameras with areas that did not "
        "(the control) over the same periods; only a difference between them points at the "
        "cameras, and even then other things that changed in those areas at the same time "
        "remain possible causes.",
    ),
    Caveat(
        "What published reviews find",
        "Systematic reviews of CCTV (Welsh & Farrington 2009: about 16%; the 40-year "
        "meta-analysis of Piza, Welsh, Farrington & Thomas 2019: about 13%) find a modest "
        "average reduction of about 13–16%, "
        "mostly in car parks and residential areas and against vehicle and property crime, "
        "and little or none in city centres and against violent crime. A fall much larger "
        "than that deserves a second look before it is credited to the cameras.",
    ),
    Caveat(
        "Regression to the mean",
        "Cameras go where crime was high. A place picked in an unusually bad period tends to "
        "return towards its normal level on its own, so the next period looks better even "
        "with no effect at all. Longer 'before' periods and a control chosen the same way "
        "reduce this.",
    ),
    Caveat(
        "Displacement (and diffusion of benefits)",
        "Crime may move round the corner or to another district rather than stop; or the "
        "benefit may spread beyond the cameras' view. Counts for the watched areas alone "
        "cannot tell; compare neighbouring areas as well.",
    ),
    Caveat(
        "Recording practice",
        "Registered crime is what was reported and recorded. Cameras themselves change it: "
        "operators see and report offences nobody would have reported (a rise), and a "
        "change in how the police register or classify crimes (a street crime recorded as "
        "'other place', a threshold for theft) moves the figures with no change on the "
        "street. Check that recording rules stayed the same over both periods.",
    ),
    Caveat(
        "Small numbers",
        "With few crimes, chance alone moves the figures a lot: read the interval of the rate "
        "ratio, not only the ratio. An interval that includes 1 means the data cannot tell "
        "the change from no change.",
    ),
)
