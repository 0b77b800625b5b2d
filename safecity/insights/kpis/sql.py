"""Time arithmetic in SQL that SQLite and PostgreSQL spell differently.

SQLite keeps ``UTCDateTime`` as text (``2026-03-01 10:15:00.000000``, always UTC); PostgreSQL
as ``timestamptz``. Each construct compiles to the dialect's own words, so the KPI queries add
up seconds and hours in the database instead of reading every row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlalchemy.sql.functions import FunctionElement

from safecity.store.base import UTCDateTime


class seconds_between(FunctionElement[float]):
    """Seconds from the first moment to the second (negative when the second is earlier)."""

    type = Float()
    inherit_cache = True

    def __init__(self, start: SQLCoreOperations[Any], end: SQLCoreOperations[Any]) -> None:
        super().__init__(start, end)


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # Whole seconds from strftime and the stored microseconds from the text: julianday's
    # floating days would be off by tens of microseconds.
    return (
        f"(CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER)"
        f" + CAST(substr({end}, 20) AS REAL) - CAST(substr({start}, 20) AS REAL))"
    )


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # date_part gives a double; EXTRACT a numeric, several times slower to add up.
    return f"date_part('epoch', {end} - {start})"


class later_of(FunctionElement[Any]):
    """The later of two moments."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, first: SQLCoreOperations[Any], second: SQLCoreOperations[Any]) -> None:
        super().__init__(first, second)


class earlier_of(FunctionElement[Any]):
    """The earlier of two moments."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, first: SQLCoreOperations[Any], second: SQLCoreOperations[Any]) -> None:
        super().__init__(first, second)


def _two(element: FunctionElement[Any], compiler: SQLCompiler, name: str, **kw: Any) -> str:
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{name}({first}, {second})"


@compiles(later_of, "sqlite")
def _later_sqlite(element: later_of, compiler: SQLCompiler, **kw: Any) -> str:
    # Text in one fixed format orders as the moments do.
    return _two(element, compiler, "max", **kw)


@compiles(later_of, "postgresql")
def _later_postgresql(element: later_of, compiler: SQLCompiler, **kw: Any) -> str:
    return _two(element, compiler, "GREATEST", **kw)


@compiles(earlier_of, "sqlite")
def _earlier_sqlite(element: earlier_of, compiler: SQLCompiler, **kw: Any) -> str:
    return _two(element, compiler, "min", **kw)


@compiles(earlier_of, "postgresql")
def _earlier_postgresql(element: earlier_of, compiler: SQLCompiler, **kw: Any) -> str:
    return _two(element, compiler, "LEAST", **kw)


class utc_hour(FunctionElement[Any]):
    """The UTC clock hour a moment falls in, as a value that is equal for equal hours (text on
    SQLite, hours since 1970 on PostgreSQL)."""

    type = Float()
    inherit_cache = True

    def __init__(self, moment: SQLCoreOperations[Any]) -> None:
        super().__init__(moment)


@compiles(utc_hour, "sqlite")
def _hour_sqlite(element: utc_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"substr({moment}, 1, 13)"


@compiles(utc_hour, "postgresql")
def _hour_postgresql(element: utc_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"floor(date_part('epoch', {moment}) / 3600)"


class utc_quarter_of_day(FunctionElement[int]):
    """Which quarter-hour of its UTC day a moment falls in, 0 … 95. Every time zone's offset
    is a whole number of quarter-hours, so the city's hour of day follows from it."""

    type = Integer()
    inherit_cache = True

    def __init__(self, moment: SQLCoreOperations[Any]) -> None:
        super().__init__(moment)


@compiles(utc_quarter_of_day, "sqlite")
def _quarter_sqlite(element: utc_quarter_of_day, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return (
        f"(CAST(substr({moment}, 12, 2) AS INTEGER) * 4"
        f" + CAST(substr({moment}, 15, 2) AS INTEGER) / 15)"
    )


@compiles(utc_quarter_of_day, "postgresql")
def _quarter_postgresql(element: utc_quarter_of_day, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    utc = f"({moment} AT TIME ZONE 'UTC')"
    return f"CAST(EXTRACT(HOUR FROM {utc}) * 4 + FLOOR(EXTRACT(MINUTE FROM {utc}) / 15) AS INTEGER)"
