"""Time the KPIs of a whole city: 1,100 cameras and a month of recorded segments.

Run by hand from the repository root:

    .venv/bin/python bench/kpis.py [--cameras 1100] [--days 30] [--segment-seconds 600] \\
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--runs 3]

It builds the city in a fresh database (SQLite in a temporary folder; with ``--postgres`` a
throw-away database on that server, dropped at the end): five districts, ``--cameras`` active
cameras, and for every camera a segment row every ``--segment-seconds`` over ``--days`` days,
about one in twenty missing (the gaps); the rows are generated inside the database
(``generate_series`` / a recursive CTE), not sent one by one, in the order the recorders write
them: by time, all cameras interleaved (which decides how the table's pages follow its indexes). Beside them: a month of the OCC
(50 incidents and 300 alerts a day), 1,000 crime records, and counts of people and cars every
15 minutes on a tenth of the cameras.

Measured, each the median of ``--runs``: ``city_kpis`` for the whole month (every KPI group,
city-wide), and in the same run the baseline, a bare ``SELECT count(*)`` of the same segment
rows (the floor for any figure that must look at each of them). Printed with the machine's
load (``uptime``), since the machines are shared.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from safecity.auth.roles import Scope
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import Camera, CameraStatus, District
from safecity.insights.kpis.report import KpiReport
from safecity.insights.kpis.store import KpiQuery, city_kpis
from safecity.insights.models import CrimeRecord
from safecity.ops.models import Alert, AlertSource, Incident
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.models import RecordedSegment
from tests import factories as f

T = TypeVar("T")
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
DISTRICTS = 5


@contextlib.contextmanager
def fresh_database(postgres: str | None, folder: Path) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite:///{folder / 'kpis.db'}"
        return
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    name = f"bench_kpis_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build_city(database: Database, cameras: int, days: int, segment_seconds: int) -> int:
    since = UNTIL - timedelta(days=days)
    with database.session() as s:
        districts: list[District] = []
        for index in range(DISTRICTS):
            west = 71.30 + 0.05 * index
            districts.append(f.add_district(s, f"d{index}", (west, 51.10, west + 0.05, 51.20)))
        s.execute(
            insert(Camera),
            [
                {
                    "code": f"CAM-{index:05d}",
                    "name": f"Camera {index}",
                    "latitude": 51.15,
                    "longitude": 71.30 + 0.05 * (index % DISTRICTS) + 0.02,
                    "district_id": districts[index % DISTRICTS].id,
                    "main_stream_url": f"rtsp://10.0.0.1/{index}",
                    "status": CameraStatus.ACTIVE,
                    "created_at": since - timedelta(days=1),
                }
                for index in range(cameras)
            ],
        )
        district_ids = [district.id for district in districts]
        per_day = 50
        s.execute(
            insert(Incident),
            [
                {
                    "number": f"2026-{n + 1:06d}",
                    "type_code": "theft",
                    "priority": 2,
                    "latitude": 51.15,
                    "longitude": 71.35,
                    "district_id": district_ids[n % DISTRICTS],
                    "opened_by": "operator",
                    "opened_at": since + timedelta(minutes=n * 1440 / per_day),
                    "dispatched_at": since + timedelta(minutes=n * 1440 / per_day + 2 + n % 7),
                    "accepted_at": since + timedelta(minutes=n * 1440 / per_day + 5 + n % 11),
                }
                for n in range(per_day * days)
            ],
        )
        s.execute(
            insert(Alert),
            [
                {
                    "source": AlertSource.ANALYTICS,
                    "district_id": district_ids[n % DISTRICTS],
                    "kind": "crowd",
                    "priority": 3,
                    "title": "Crowd",
                    "details": {},
                    "dedup_key": f"bench:{n}",
                    "first_at": since + timedelta(seconds=n * 288),
                    "last_at": since + timedelta(seconds=n * 288),
                    "acknowledged_at": since + timedelta(seconds=n * 288 + 10 + n % 90),
                }
                for n in range(300 * days)
            ],
        )
        s.execute(
            insert(CrimeRecord),
            [
                {
                    "code": f"CR-{n}",
                    "occurred_at": since + timedelta(minutes=n * 43),
                    "kind": list(CrimeKind)[n % len(CrimeKind)],
                    "place_kind": PlaceKind.STREET,
                    "district_id": district_ids[n % DISTRICTS],
                    "solved": n % 3 == 0,
                }
                for n in range(1000)
            ],
        )
    steps = days * 86_400 // segment_seconds
    postgres = database.engine.dialect.name == "postgresql"
    with database.engine.begin() as connection:
        if postgres:
            connection.execute(
                text(
                    "INSERT INTO segments (camera_id, started_at, ended_at, path, bytes, sha256,"
                    " codec, time_scale, init_bytes, packets, keyframes, created_at)"
                    " SELECT c.id, :since + g * make_interval(secs => :step),"
                    " :since + (g + 1) * make_interval(secs => :step),"
                    " 'r/' || c.id || '/' || g, 5000000, repeat('0', 64), 'avc1.64001f', 90000,"
                    " 800, 250, '[]', now()"
                    " FROM generate_series(0, :steps - 1) g CROSS JOIN cameras c"
                    " WHERE (c.id * 7919 + g * 104729) % 20 <> 0 ORDER BY g, c.id"
                ),
                {"since": since, "step": segment_seconds, "steps": steps},
            )
            connection.execute(
                text(
                    "INSERT INTO traffic_counts SELECT c.id, :since + g * interval '15 minutes',"
                    " 'camera', '', k, '', (c.id + g) % 37"
                    " FROM cameras c CROSS JOIN generate_series(0, :bins - 1) g"
                    " CROSS JOIN (VALUES ('person'), ('car')) AS kinds(k) WHERE c.id % 10 = 0"
                ),
                {"since": since, "bins": days * 96},
            )
            connection.execute(text("ANALYZE"))
        else:
            start = since.strftime("%Y-%m-%d %H:%M:%S")
            connection.execute(
                text(
                    "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g"
                    " WHERE i < :steps - 1)"
                    " INSERT INTO segments (camera_id, started_at, ended_at, path, bytes, sha256,"
                    " codec, time_scale, init_bytes, packets, keyframes, created_at)"
                    " SELECT c.id,"
                    " strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (i * :step) || ' seconds')"
                    " || '.000000',"
                    " strftime('%Y-%m-%d %H:%M:%S', :start, '+' || ((i + 1) * :step) || ' seconds')"
                    " || '.000000',"
                    " 'r/' || c.id || '/' || i, 5000000, printf('%064d', 0), 'avc1.64001f',"
                    " 90000, 800, 250, '[]', :start || '.000000'"
                    " FROM g CROSS JOIN cameras c WHERE (c.id * 7919 + i * 104729) % 20 <> 0"
                    " ORDER BY i, c.id"
                ),
                {"start": start, "step": segment_seconds, "steps": steps},
            )
            connection.execute(
                text(
                    "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g"
                    " WHERE i < :bins - 1)"
                    " INSERT INTO traffic_counts SELECT c.id,"
                    " strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (i * 900) || ' seconds')"
                    " || '.000000', 'camera', '', k.k, '', (c.id + i) % 37"
                    " FROM cameras c CROSS JOIN g CROSS JOIN"
                    " (SELECT 'person' AS k UNION ALL SELECT 'car') k WHERE c.id % 10 = 0"
                ),
                {"start": start, "bins": days * 96},
            )
            connection.execute(text("ANALYZE"))
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(RecordedSegment)) or 0


def median_seconds(work: Callable[[], T], runs: int) -> tuple[float, T]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cameras", type=int, default=1100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--segment-seconds", type=int, default=600)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (default: SQLite)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="safecity-bench-kpis-") as folder,
        fresh_database(args.postgres, Path(folder)) as url,
    ):
        database = Database(url)
        migrate.upgrade(database)
        started = time.perf_counter()
        segments = build_city(database, args.cameras, args.days, args.segment_seconds)
        print(
            f"{database.engine.dialect.name}: {args.cameras} cameras, {segments:,} segment rows "
            f"({args.segment_seconds} s each, {args.days} days) built in "
            f"{time.perf_counter() - started:.1f} s"
        )
        since = UNTIL - timedelta(days=args.days)
        settings = Settings(data_dir=Path(folder), timezone="Asia/Almaty")

        def baseline() -> int:
            with database.session() as s:
                return (
                    s.scalar(
                        select(func.count()).where(
                            RecordedSegment.started_at < UNTIL, RecordedSegment.ended_at > since
                        )
                    )
                    or 0
                )

        def kpis() -> KpiReport:
            with database.session() as s:
                return city_kpis(s, Scope(city_wide=True), settings, KpiQuery(since, UNTIL))

        print(f"uptime: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (load 1, 5 min)")
        base, counted = median_seconds(baseline, args.runs)
        took, report = median_seconds(kpis, args.runs)
        print(f"baseline: SELECT count(*) of the month's {counted:,} segments: {base:.2f} s")
        print(
            f"city_kpis, every group, the whole month: {took:.2f} s ({took / base:.1f}× baseline)"
        )
        recording = report.recording.total
        print(
            f"recording: completeness {recording.completeness}, uptime {recording.uptime}"
            f" over {recording.active_cameras} cameras; response P50 "
            f"{report.response.total.acknowledge.p50_seconds} s; flows {report.flows.people:,}"
        )
        print(f"uptime: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (load 1, 5 min)")
        database.dispose()


if __name__ == "__main__":
    main()
