"""Counts of city life: people and vehicles per camera, zone and line per 15 minutes, stored
by adding, read back in bins of 15 minutes, an hour or a day.

A camera's pipeline counts what it saw in each 15-minute bin and adds its rows here; a bin
sent twice (a node restarted mid-bin) adds up, which is why storing is an upsert that adds
(``INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count``, on SQLite and
PostgreSQL alike). Fifteen-minute and hour bins are UTC's, the city's too wherever its offset
is whole hours (Kazakhstan's is); day bins are the city's days.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safecity.analytics.models import TrafficCount
from safecity.analytics.objects import ObjectClass

COUNT_BIN = timedelta(minutes=15)
"""What the pipeline counts in and the table keeps."""
MAX_BINS = 1500
"""At most this many bins in one answer: a week of 15 minutes, two months of hours, years of
days."""
_ROWS_PER_STATEMENT = 1000
"""Seven parameters a row, well under PostgreSQL's 65,535 per statement."""

CountScope = Literal["camera", "zone", "line"]
COUNT_SCOPES: tuple[CountScope, ...] = get_args(CountScope)
Direction = Literal["", "forward", "backward"]


class Bin(enum.StrEnum):
    QUARTER = "15m"
    HOUR = "1h"
    DAY = "1d"


class CountError(ValueError):
    """Counts that cannot be stored or asked for as given (the message says why)."""


@dataclass(frozen=True)
class CountRow:
    """``count`` objects of one class seen by a camera (in the whole picture, in a zone, or
    crossing a line in one direction) in the 15 minutes from ``bin_start``."""

    camera_id: int
    bin_start: datetime
    object_class: ObjectClass
    count: int
    scope: CountScope = "camera"
    scope_name: str = ""
    """The zone's or line's rule name; empty for the whole picture."""
    direction: Direction = ""
    """For a line: which way it was crossed; empty otherwise."""


def count_bin(at: datetime) -> datetime:
    """The start of the 15-minute bin ``at`` falls in (UTC)."""
    utc = at.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def _row_problem(row: CountRow) -> str | None:
    if row.bin_start.tzinfo is None or count_bin(row.bin_start) != row.bin_start:
        return f"bin_start {row.bin_start.isoformat()} is not the start of a 15-minute bin (UTC)"
    if row.count < 0:
        return "a count is 0 or more"
    if row.scope not in COUNT_SCOPES:
        return f"unknown scope {row.scope!r}"
    if (row.scope == "camera") != (row.scope_name == ""):
        return "a zone or line count names its rule; a camera count names none"
    if (row.scope == "line") != (row.direction != ""):
        return "a line count has a direction (forward or backward); others have none"
    return None


def add_counts(session: Session, rows: Iterable[CountRow]) -> None:
    """Add ``rows`` to the stored counts (rows of the same bin and kind add up). Raises
    :class:`CountError` for a row that makes no sense, before anything is stored."""
    totals: Counter[tuple[int, datetime, str, str, str, str]] = Counter()
    for row in rows:
        problem = _row_problem(row)
        if problem is not None:
            raise CountError(problem)
        key = (
            row.camera_id,
            row.bin_start.astimezone(UTC),
            row.scope,
            row.scope_name,
            ObjectClass(row.object_class).value,
            row.direction,
        )
        totals[key] += row.count
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    items = list(totals.items())
    for first in range(0, len(items), _ROWS_PER_STATEMENT):
        chunk = items[first : first + _ROWS_PER_STATEMENT]
        values = [
            {
                "camera_id": camera_id,
                "bin_start": bin_start,
                "scope": scope,
                "scope_name": scope_name,
                "object_class": object_class,
                "direction": direction,
                "count": count,
            }
            for (camera_id, bin_start, scope, scope_name, object_class, direction), count in chunk
        ]
        statement = insert(TrafficCount).values(values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[column.name for column in TrafficCount.__table__.primary_key],
                set_={"count": TrafficCount.count + statement.excluded.count},
            )
        )


def bin_starts(since: datetime, until: datetime, size: Bin, zone: tzinfo) -> list[datetime]:
    """The starts (UTC) of the bins that cover ``since`` to ``until``, and the end of the last
    one after them. Raises :class:`CountError` when ``until`` is not after ``since`` or the
    range needs more than ``MAX_BINS`` bins."""
    if until <= since:
        raise CountError("until must come after since")
    if size is Bin.DAY:
        day = since.astimezone(zone).date()
        edges = [datetime.combine(day, time(0), zone).astimezone(UTC)]
        while edges[-1] < until:
            day += timedelta(days=1)
            edges.append(datetime.combine(day, time(0), zone).astimezone(UTC))
            _check_length(len(edges) - 1)
        return edges
    step = COUNT_BIN if size is Bin.QUARTER else timedelta(hours=1)
    first = count_bin(since)
    if size is Bin.HOUR:
        first = first.replace(minute=0)
    bins = -(-(until - first) // step)
    _check_length(bins)
    return [first + index * step for index in range(bins + 1)]


def _check_length(bins: int) -> None:
    if bins > MAX_BINS:
        raise CountError(f"at most {MAX_BINS} bins at a time: ask a shorter range or larger bins")


@dataclass(frozen=True)
class Series:
    scope: str
    scope_name: str
    object_class: str
    direction: str
    counts: list[int]
    """One per bin, in the order of the answer's ``bins``."""


@dataclass(frozen=True)
class CountSeries:
    bins: list[datetime]
    """Each bin's start (UTC); the last bin ends at ``end``."""
    end: datetime
    series: list[Series]


def counts(
    session: Session,
    camera_id: int,
    since: datetime,
    until: datetime,
    size: Bin,
    *,
    zone: tzinfo,
    scopes: Sequence[CountScope] = ("camera",),
) -> CountSeries:
    """The camera's counts from ``since`` to ``until`` in bins of ``size``: one series per
    class (per zone or line and direction too, for the ``scopes`` that ask for them), the
    bins without counts as zeros. Raises :class:`CountError` as :func:`bin_starts` does."""
    edges = bin_starts(since, until, size, zone)
    starts, end = edges[:-1], edges[-1]
    rows = session.execute(
        select(
            TrafficCount.scope,
            TrafficCount.scope_name,
            TrafficCount.object_class,
            TrafficCount.direction,
            TrafficCount.bin_start,
            TrafficCount.count,
        ).where(
            TrafficCount.camera_id == camera_id,
            TrafficCount.bin_start >= starts[0],
            TrafficCount.bin_start < end,
            TrafficCount.scope.in_(sorted(set(scopes))),
        )
    )
    found: dict[tuple[str, str, str, str], list[int]] = {}
    for scope, scope_name, object_class, direction, bin_start, count in rows:
        series = found.setdefault((scope, scope_name, object_class, direction), [0] * len(starts))
        series[bisect_right(starts, bin_start) - 1] += count
    order: dict[str, int] = {scope: index for index, scope in enumerate(COUNT_SCOPES)}
    return CountSeries(
        bins=starts,
        end=end,
        series=[
            Series(scope, scope_name, object_class, direction, values)
            for (scope, scope_name, object_class, direction), values in sorted(
                found.items(), key=lambda item: (order[item[0][0]], *item[0][1:])
            )
        ],
    )
