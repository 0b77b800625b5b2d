"""A report's period: a year, a quarter or a month, in the city's own calendar. Pure.

Written as people write it: ``2026``, ``2026-Q3``, ``2026-10``. Its previous period is the one
just before (2026-Q2, 2026-09, 2025); the same period a year earlier is the seasonal
comparison (crime has a summer peak, so a quarter is fairly compared with the same quarter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:[Qq](?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class PeriodError(ValueError):
    """A period written in a way this module does not read; the message says how to."""


@dataclass(frozen=True, order=True)
class Period:
    start: date
    """The first day."""
    end: date
    """The day after the last."""
    kind: str
    """"year", "quarter" or "month"."""

    @property
    def code(self) -> str:
        if self.kind == "year":
            return f"{self.start.year}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        """In words: "Q3 2026 (July–September)", "October 2026", "2026"."""
        if self.kind == "year":
            return self.code
        if self.kind == "quarter":
            first = MONTH_NAMES[self.start.month - 1]
            last = MONTH_NAMES[self.start.month + 1]
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year} ({first}–{last})"
        return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"

    def previous(self) -> Period:
        if self.kind == "year":
            return year(self.start.year - 1)
        months = 3 if self.kind == "quarter" else 1
        index = self.start.year * 12 + self.start.month - 1 - months
        return _months(index // 12, index % 12 + 1, months, self.kind)

    def year_before(self) -> Period:
        start = self.start.replace(year=self.start.year - 1)
        end = self.end.replace(year=self.end.year - 1)
        return Period(start, end, self.kind)

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The aware moments it runs between: from its first local midnight to the next
        period's."""
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end, time(), tzinfo=zone),
        )


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number + 1, 1, 1), "year")


def _months(year_number: int, month: int, months: int, kind: str) -> Period:
    index = year_number * 12 + month - 1 + months
    return Period(date(year_number, month, 1), date(index // 12, index % 12 + 1, 1), kind)


def parse_period(text: str) -> Period:
    """``2026``, ``2026-Q3`` or ``2026-10``; anything else raises PeriodError saying so."""
    found = _PATTERN.match(text.strip())
    if found is None:
        raise PeriodError(
            f"{text!r} is not a period: write a year (2026), a quarter (2026-Q3) "
            "or a month (2026-10)"
        )
    number = int(found["year"])
    if not 1900 <= number <= 2999:
        raise PeriodError(f"{text!r}: the year must lie between 1900 and 2999")
    if found["quarter"]:
        return _months(number, (int(found["quarter"]) - 1) * 3 + 1, 3, "quarter")
    if found["month"]:
        return _months(number, int(found["month"]), 1, "month")
    return year(number)
