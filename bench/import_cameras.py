"""Time the camera registry import and export at city scale, against the floor for the same work.

Run by hand from the repository root:

    .venv/bin/python bench/import_cameras.py [--count 10000] [--postgres ADMIN_URL]

It builds a throw-away database with a grid of districts, generates ``--count`` cameras as a
registry CSV and times each phase of a first import, a re-import that changes every camera
(the update path), a re-import that changes nothing, and an export. The baseline is the least
any import of the same rows can cost: ``csv.DictReader`` and one DBAPI ``executemany`` into a
bare table, with no checks at all; the ratio says what the checks and the ORM cost on top.
With ``--postgres`` (a server URL whose user may create databases) the same runs on a
temporary PostgreSQL database that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from safecity.city.models import District
from safecity.city.registry.checking import validate
from safecity.city.registry.columns import COLUMNS
from safecity.city.registry.parsing import parse_csv
from safecity.city.registry.store import load_context, plan_import, read_cameras, write_import
from safecity.city.registry.writing import to_csv, to_geojson
from safecity.store import migrate
from safecity.store.engine import Database

T = TypeVar("T")

# A GRID x GRID block of square districts, 0.05° on a side, south-west corner near Astana.
GRID = 4
SIDE = 0.05
WEST, SOUTH = 71.30, 51.05
# The registry's columns but `site`: the generated cameras belong to no site.
BASELINE_COLUMNS = tuple(column for column in COLUMNS if column != "site")


@dataclass
class Timing:
    label: str
    seconds: float
    count: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


@contextmanager
def timed(results: list[Timing], label: str, count: int) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results.append(Timing(label, time.perf_counter() - start, count))


def measure(results: list[Timing], label: str, count: int, work: Callable[[], T]) -> T:
    with timed(results, label, count):
        return work()


def add_districts(database: Database) -> None:
    with database.session() as session:
        for row in range(GRID):
            for column in range(GRID):
                west, south = WEST + column * SIDE, SOUTH + row * SIDE
                ring = [
                    [west, south],
                    [west + SIDE, south],
                    [west + SIDE, south + SIDE],
                    [west, south + SIDE],
                    [west, south],
                ]
                code = f"d{row}{column}"
                session.add(
                    District(
                        code=code,
                        name=f"District {row}-{column}",
                        geometry={"type": "Polygon", "coordinates": [ring]},
                    )
                )


def registry_csv(count: int, suffix: str = "") -> bytes:
    """``count`` cameras strictly inside the districts (never on a shared edge), fixed seed."""
    rng = random.Random(20240101)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BASELINE_COLUMNS)
    for number in range(count):
        row, column = rng.randrange(GRID), rng.randrange(GRID)
        latitude = round(SOUTH + (row + rng.uniform(0.01, 0.99)) * SIDE, 6)
        longitude = round(WEST + (column + rng.uniform(0.01, 0.99)) * SIDE, 6)
        writer.writerow(
            (
                f"AST-{number:06d}",
                f"Camera {number}{suffix}",
                f"{number} Example street",
                latitude,
                longitude,
                f"District {row}-{column}",
                f"rtsp://10.{number // 65536}.{number // 256 % 256}.{number % 256}/main",
                f"rtsp://10.{number // 65536}.{number // 256 % 256}.{number % 256}/sub",
                "active",
                "2024-03-01",
                "Hikvision",
                "DS-2CD2143G2",
                "V5.7.3",
            )
        )
    return out.getvalue().encode()


def run_import(database: Database, data: bytes, name: str, results: list[Timing]) -> str:
    """One import, phase by phase, as the CLI runs it: one transaction."""
    start = time.perf_counter()
    parsed = measure(results, f"{name}: parse", 0, lambda: parse_csv(data))
    count = len(parsed.rows)
    results[-1].count = count
    with database.session() as session:
        context = measure(results, f"{name}: load districts", count, lambda: load_context(session))
        validation = measure(
            results, f"{name}: check rows", count, lambda: validate(parsed.rows, context)
        )
        assert not validation.problems, validation.problems[:3]
        plan = measure(
            results,
            f"{name}: compare with DB",
            count,
            lambda: plan_import(session, validation.records, context),
        )
        with timed(results, f"{name}: write + commit", count):
            write_import(session, plan)
            session.commit()
    results.append(Timing(f"{name}: TOTAL", time.perf_counter() - start, count))
    return f"created {len(plan.inserts)}, updated {len(plan.updates)}, unchanged {plan.unchanged}"


def run_export(database: Database, results: list[Timing]) -> None:
    with database.session() as session:
        export = measure(results, "export: read cameras", 0, lambda: read_cameras(session))
    count = len(export.records)
    results[-1].count = count
    measure(results, "export: to CSV", count, lambda: to_csv(export.records, export.district_names))
    measure(
        results,
        "export: to GeoJSON",
        count,
        lambda: to_geojson(export.records, export.district_names),
    )


def baseline_rows(data: bytes) -> list[tuple[str, ...]]:
    reader = csv.DictReader(io.StringIO(data.decode()))
    return [tuple(row[column] for column in BASELINE_COLUMNS) for row in reader]


def baseline_sqlite(folder: Path, data: bytes, results: list[Timing]) -> None:
    start = time.perf_counter()
    rows = baseline_rows(data)
    connection = sqlite3.connect(folder / "baseline.db")
    # Same journal settings as safecity.store.engine, so the floor is measured fairly.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    columns = ", ".join(f"{column} TEXT" for column in BASELINE_COLUMNS)
    connection.execute(f"CREATE TABLE cameras (id INTEGER PRIMARY KEY, {columns})")
    marks = ", ".join("?" for _ in BASELINE_COLUMNS)
    with connection:
        connection.executemany(
            f"INSERT INTO cameras ({', '.join(BASELINE_COLUMNS)}) VALUES ({marks})", rows
        )
    connection.close()
    results.append(
        Timing("baseline: DictReader + executemany", time.perf_counter() - start, len(rows))
    )


def baseline_postgres(url: str, data: bytes, results: list[Timing]) -> None:
    start = time.perf_counter()
    rows = baseline_rows(data)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        columns = ", ".join(f"{column} TEXT" for column in BASELINE_COLUMNS)
        cursor.execute(f"CREATE TABLE baseline_cameras (id SERIAL PRIMARY KEY, {columns})")
        marks = ", ".join("%s" for _ in BASELINE_COLUMNS)
        cursor.executemany(
            f"INSERT INTO baseline_cameras ({', '.join(BASELINE_COLUMNS)}) VALUES ({marks})", rows
        )
    results.append(
        Timing("baseline: DictReader + executemany", time.perf_counter() - start, len(rows))
    )


def run_all(
    database: Database, count: int, baseline: Callable[[bytes, list[Timing]], None]
) -> list[Timing]:
    results: list[Timing] = []
    migrate.upgrade(database)
    add_districts(database)
    first, changed = registry_csv(count), registry_csv(count, suffix=" (renamed)")
    baseline(first, results)
    outcomes = [
        run_import(database, first, "first import", results),
        run_import(database, changed, "re-import, all changed", results),
        run_import(database, changed, "re-import, unchanged", results),
    ]
    run_export(database, results)
    print("\n".join(f"  {outcome}" for outcome in outcomes))
    return results


def report(results: list[Timing]) -> None:
    floor = next(t for t in results if t.label.startswith("baseline")).seconds
    print(f"  {'phase':<40} {'seconds':>8} {'cameras/s':>11} {'x baseline':>11}")
    for timing in results:
        ratio = f"{timing.seconds / floor:>10.1f}x" if timing.label.endswith("TOTAL") else ""
        print(f"  {timing.label:<40} {timing.seconds:>8.3f} {timing.rate:>11,.0f} {ratio:>11}")


@contextmanager
def temporary_postgres(admin_url: str) -> Iterator[str]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"safecity_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=10_000, help="cameras to generate")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run on PostgreSQL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/bench.db")
        print(f"SQLite, {args.count} cameras")
        results = run_all(
            database, args.count, lambda data, out: baseline_sqlite(Path(folder), data, out)
        )
        database.dispose()
        report(results)
    if args.postgres:
        with temporary_postgres(args.postgres) as url:
            database = Database(url)
            print(f"\nPostgreSQL, {args.count} cameras")
            results = run_all(
                database, args.count, lambda data, out: baseline_postgres(url, data, out)
            )
            database.dispose()
            report(results)


if __name__ == "__main__":
    main()
