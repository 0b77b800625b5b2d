"""A whole city imported from its folder, vs writing the same rows with no checks at all.

Run by hand from the repository root:

    .venv/bin/python bench/city_import.py [--scale 10] [--postgres URL]

It writes the demo city as a city folder with ``--scale`` copies of every camera (the demo has
1,100; scale 10 is an 11,000-camera city, 236 sites, 5 districts) and times, in this process
(no command start-up), on SQLite and, where reachable, PostgreSQL:

- first import into an empty database: read and check every file and row, write, locate
  every camera and site (``read_city_folder`` + ``apply_city``, as `safecity city import`);
- the same folder again (every row compared, nothing written);
- a border moved (every camera and site located again, the moves listed);
- the baseline, in the same run into another empty database: the same rows inserted with
  one executemany per table and no check at all — what the demo's seeding did before.

The ratio first import / baseline is the price of checking everything.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text

from safecity.city.folder.reading import read_city_folder
from safecity.city.folder.store import CityImportReport, apply_city
from safecity.city.models import Camera, District, Organization, PoliceUnit, Site
from safecity.city.stream_credentials import CredentialKeyring
from safecity.demo.city import build_demo_city
from safecity.demo.city_folder import demo_city_files
from safecity.store import migrate
from safecity.store.engine import Database


def scaled_folder(folder: Path, scale: int) -> int:
    """The demo city's files with every camera ``scale`` times; returns the camera count."""
    files = demo_city_files(build_demo_city())
    rows = list(csv.reader(io.StringIO(files["cameras.csv"].decode())))
    header, cameras = rows[0], rows[1:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for copy in range(scale):
        for row in cameras:
            writer.writerow([f"{row[0]}-{copy}", *row[1:]])
    files["cameras.csv"] = out.getvalue().encode()
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return len(cameras) * scale


def moved_border(folder: Path, target: Path) -> None:
    """The same folder with the Saryarka/Baikonyr border 300 m further east: both outlines."""
    target.mkdir()
    districts = json.loads((folder / "districts.geojson").read_text())
    for feature in districts["features"]:
        code = feature["properties"]["code"]
        if code in ("saryarka", "baikonyr"):
            ring = feature["geometry"]["coordinates"][0]
            for point in ring:
                if 71.405 <= point[0] <= 71.420:
                    point[0] += 0.004
    (target / "districts.geojson").write_text(json.dumps(districts))


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def import_folder(database: Database, folder: Path, keys: Path) -> CityImportReport:
    city = read_city_folder(folder)
    assert not city.problems, city.problems[:3]
    with database.session() as session:
        report = apply_city(
            session,
            city.description,
            city.cameras,
            keyring=CredentialKeyring(keys),
            incident_types=city.incident_types,
        )
        assert report.ok, report.problems[:3]
    return report


def baseline(database: Database, folder: Path) -> None:
    """The rows as they end up stored, inserted with no check (districts given, not derived)."""
    city = read_city_folder(folder)
    description = city.description
    assert city.cameras is not None
    with database.session() as session:
        session.execute(
            insert(District),
            [
                {"code": d.code, "name": d.name, "population": d.population, "geometry": d.geometry}
                for d in description.districts
            ],
        )
        session.execute(
            insert(Organization),
            [
                {"code": o.code, "name": o.name, "kind": o.kind, "city_wide": o.city_wide}
                for o in description.organizations
            ],
        )
        police = session.scalar(
            text("select id from organizations where kind = 'POLICE' or kind = 'police' limit 1")
        )
        session.execute(
            insert(PoliceUnit),
            [
                {
                    "code": u.code,
                    "name": u.name,
                    "organization_id": police,
                    "is_fallback": u.fallback,
                }
                for u in description.police_units
            ],
        )
        session.execute(
            insert(Site),
            [
                {
                    "code": s.code,
                    "name": s.name,
                    "kind": s.kind,
                    "latitude": s.latitude,
                    "longitude": s.longitude,
                    "district_id": 1,
                    "schedule": list(s.schedule),
                    "tasks": list(s.tasks),
                }
                for s in description.sites
            ],
        )
        rows = list(csv.DictReader(io.StringIO(city.cameras.data.decode())))
        session.execute(
            insert(Camera),
            [
                {
                    "code": r["camera_id"],
                    "name": r["name"],
                    "latitude": float(r["latitude"]),
                    "longitude": float(r["longitude"]),
                    "district_id": 1,
                    "main_stream_url": r["main_stream_url"],
                }
                for r in rows
            ],
        )


def fresh(url: str | None, folder: Path, name: str) -> Database:
    if url is None:
        database = Database(f"sqlite:///{folder / f'{name}.db'}")
    else:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS bench_{name}"))
            connection.execute(text(f"CREATE DATABASE bench_{name}"))
        admin.dispose()
        database = Database(url.rsplit("/", 1)[0] + f"/bench_{name}")
    migrate.upgrade(database)
    return database


def run(label: str, url: str | None, work: Path, folder: Path, border: Path) -> None:
    database = fresh(url, work, "city")
    first, report = timed(lambda: import_folder(database, folder, work / "keys"))
    again, _ = timed(lambda: import_folder(database, folder, work / "keys"))
    moved_seconds, moved = timed(lambda: import_folder(database, border, work / "keys"))
    database.dispose()
    plain = fresh(url, work, "plain")
    base, _ = timed(lambda: baseline(plain, folder))
    plain.dispose()
    cameras = report.counts["cameras"].created
    print(
        f"{label:10} first import {first:6.2f} s ({cameras / first:,.0f} cameras/s) | again "
        f"{again:5.2f} s | border moved {moved_seconds:5.2f} s ({len(moved.moved)} moved) | "
        f"baseline {base:5.2f} s | ratio {first / base:4.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="An admin URL; empty to skip PostgreSQL.",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        cameras = scaled_folder(work / "city", args.scale)
        moved_border(work / "city", work / "border")
        print(f"city folder: 5 districts, 236 sites, {cameras:,} cameras")
        run("SQLite", None, work, work / "city", work / "border")
        if args.postgres:
            try:
                run("PostgreSQL", args.postgres, work, work / "city", work / "border")
            except Exception as exc:
                print(f"PostgreSQL skipped: {exc}")


if __name__ == "__main__":
    main()
