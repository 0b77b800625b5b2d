"""Importing and exporting the camera registry against a real database, and the CLI around it."""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from safecity.city.models import Camera, CameraHealth, CameraStatus
from safecity.city.registry import store as registry_store
from safecity.city.registry.cli import app
from safecity.city.registry.columns import COLUMNS, OPTIONAL_COLUMNS, RegistryFormat
from safecity.city.registry.parsing import parse, parse_csv
from safecity.city.registry.store import (
    ImportOutcome,
    ImportReport,
    import_rows,
    load_context,
    read_cameras,
)
from safecity.city.registry.writing import serialise
from safecity.city.stream_credentials import CredentialKeyring
from safecity.store import migrate
from safecity.store.engine import Database
from tests.audit.entries import audit_entries
from tests.factories import EAST, WEST, add_camera, add_district, add_site

HEADER = (
    "camera_id",
    "name",
    "latitude",
    "longitude",
    "district",
    "site",
    "main_stream_url",
    "status",
    "installed_at",
    "vendor",
)


@dataclass(frozen=True)
class City:
    west_id: int
    east_id: int
    park_id: int


@pytest.fixture
def city(database: Database) -> City:
    """Two districts, a park in the west, and one camera already registered there."""
    with database.session() as session:
        west = add_district(session, "west", WEST)
        east = add_district(session, "east", EAST)
        park = add_site(session, "PARK-1", west)
        add_camera(session, "OLD-1", west, vendor="Axis", firmware="10.2")
        return City(west.id, east.id, park.id)


UNUSED_KEYRING = CredentialKeyring(Path("/nonexistent/stream-credentials.key"))
"""For imports without passwords, which never need the key (creating it here would fail)."""


def registry(*rows: tuple[str, ...], header: tuple[str, ...] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def row(code: str, **changes: str) -> tuple[str, ...]:
    values = {
        "camera_id": code,
        "name": f"Camera {code}",
        "latitude": "51.15",
        "longitude": "71.45",
        "district": "east",
        "site": "",
        "main_stream_url": f"rtsp://10.1.1.1/{code}",
        "status": "active",
        "installed_at": "2024-05-01",
        "vendor": "Hikvision",
        **changes,
    }
    return tuple(values[column] for column in HEADER)


def run_import(
    database: Database,
    data: bytes,
    fmt: RegistryFormat = RegistryFormat.CSV,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    with database.session() as session:
        return import_rows(
            session,
            parse(data, fmt).rows,
            load_context(session),
            UNUSED_KEYRING,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
        )


def snapshot(database: Database) -> list[tuple[Any, ...]]:
    """Every column of every camera row, in id order."""
    with database.session() as session:
        return [tuple(r) for r in session.execute(select(Camera.__table__).order_by(Camera.id))]


def cameras(database: Database) -> dict[str, Camera]:
    with database.session() as session:
        return {camera.code: camera for camera in session.scalars(select(Camera))}


def counts(report: ImportReport) -> tuple[int, int, int, int]:
    return report.created, report.updated, report.unchanged, report.skipped


def test_import_creates_cameras_in_the_district_of_their_position(
    database: Database, city: City
) -> None:
    data = registry(
        row("NEW-1"),
        row("NEW-2", latitude="51.12", longitude="71.31", district="", site="PARK-1"),
    )

    report = run_import(database, data)

    assert report.outcome is ImportOutcome.WRITTEN
    assert counts(report) == (2, 0, 0, 0)
    stored = cameras(database)
    assert stored["NEW-1"].district_id == city.east_id
    assert stored["NEW-2"].district_id == city.west_id
    assert stored["NEW-2"].site_id == city.park_id
    assert stored["NEW-1"].installed_at == date(2024, 5, 1)
    assert stored["NEW-1"].status is CameraStatus.ACTIVE
    assert stored["NEW-1"].health is CameraHealth.UNKNOWN
    assert stored["NEW-1"].created_at.tzinfo is not None


def test_import_with_one_bad_row_leaves_the_database_exactly_as_it_was(
    database: Database, city: City
) -> None:
    before = snapshot(database)
    data = registry(
        row("NEW-1"),
        row("OLD-1", name="Renamed"),
        row("BAD-1", latitude="0", longitude="0", district=""),
    )

    report = run_import(database, data)

    assert report.outcome is ImportOutcome.REJECTED
    assert [(p.where, p.camera_id) for p in report.validation.problems] == [("line 4", "BAD-1")]
    assert snapshot(database) == before


def test_skip_invalid_imports_only_the_good_rows(database: Database, city: City) -> None:
    data = registry(
        row("NEW-1"),
        row("BAD-1", status="gone"),
        row("NEW-2", longitude="71.35", district="west"),
        row("BAD-2", site="PARK-404"),
    )

    report = run_import(database, data, skip_invalid=True)

    assert report.outcome is ImportOutcome.WRITTEN
    assert counts(report) == (2, 0, 0, 2)
    assert sorted(cameras(database)) == ["NEW-1", "NEW-2", "OLD-1"]


def test_reimport_updates_cameras_by_camera_id_without_duplicating(
    database: Database, city: City
) -> None:
    run_import(database, registry(row("NEW-1"), row("NEW-2"), row("NEW-3")))
    first = cameras(database)

    report = run_import(
        database,
        registry(
            row("NEW-1"),
            row("NEW-2", name="Moved west", longitude="71.35", district="west"),
            row("NEW-3", status="maintenance"),
            row("NEW-4"),
        ),
    )

    assert counts(report) == (1, 2, 1, 0)
    again = cameras(database)
    assert sorted(again) == ["NEW-1", "NEW-2", "NEW-3", "NEW-4", "OLD-1"]
    assert again["NEW-2"].id == first["NEW-2"].id
    assert (again["NEW-2"].name, again["NEW-2"].district_id) == ("Moved west", city.west_id)
    assert again["NEW-3"].status is CameraStatus.MAINTENANCE
    assert again["NEW-1"].updated_at == first["NEW-1"].updated_at
    assert again["NEW-2"].updated_at > first["NEW-2"].updated_at
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Camera)) == 5


def test_reimport_keeps_fields_whose_column_the_file_lacks_and_clears_empty_ones(
    database: Database, city: City
) -> None:
    header = ("camera_id", "name", "latitude", "longitude", "main_stream_url", "vendor")
    old = cameras(database)["OLD-1"]
    data = registry(
        ("OLD-1", "Renamed", str(old.latitude), str(old.longitude), old.main_stream_url, ""),
        header=header,
    )

    report = run_import(database, data)

    assert counts(report) == (0, 1, 0, 0)
    updated = cameras(database)["OLD-1"]
    assert updated.name == "Renamed"
    assert updated.vendor is None
    assert updated.firmware == "10.2"


def test_every_optional_column_lands_in_a_camera_field_and_an_empty_cell_clears_it(
    database: Database, city: City
) -> None:
    full = {
        "camera_id": "NEW-1",
        "name": "Gate",
        "address": "1 Park street",
        "latitude": "51.15",
        "longitude": "71.35",
        "district": "West",
        "site": "PARK-1",
        "main_stream_url": "rtsp://10.0.0.1/main",
        "sub_stream_url": "rtsp://10.0.0.1/sub",
        "status": "planned",
        "installed_at": "2024-03-01",
        "vendor": "Axis",
        "model": "M3106",
        "firmware": "10.2",
    }
    cleared = {**full, **dict.fromkeys(OPTIONAL_COLUMNS, "")}
    exported: list[dict[str, str]] = []
    for values in (full, cleared):
        run_import(database, registry(tuple(values[c] for c in COLUMNS), header=COLUMNS))
        with database.session() as session:
            export = read_cameras(session)
        text = serialise(export.records, export.district_names, RegistryFormat.CSV)
        exported += [r for r in csv.DictReader(io.StringIO(text)) if r["camera_id"] == "NEW-1"]

    assert set(full) == set(COLUMNS)
    assert exported == [full, {**cleared, "status": "active"}]


def test_dry_run_counts_the_changes_and_writes_nothing(database: Database, city: City) -> None:
    before = snapshot(database)
    old = cameras(database)["OLD-1"]
    data = registry(
        row("NEW-1"),
        row(
            "OLD-1",
            name="Renamed",
            latitude=str(old.latitude),
            longitude=str(old.longitude),
            district="west",
        ),
    )

    report = run_import(database, data, dry_run=True)

    assert report.outcome is ImportOutcome.DRY_RUN
    assert counts(report) == (1, 1, 0, 0)
    assert snapshot(database) == before


def test_import_failing_midway_leaves_the_database_as_it_was(
    database: Database, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(database)
    monkeypatch.setattr(registry_store, "WRITE_BATCH", 1)
    data = registry(row("NEW-1"), row("NEW-2"), row("NEW-3"))

    def fail_after_first_batch(phase: str, done: int, total: int) -> None:
        if phase == "writing" and done == 2:
            raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError), database.session() as session:
        import_rows(
            session,
            parse_csv(data).rows,
            load_context(session),
            UNUSED_KEYRING,
            progress=fail_after_first_batch,
        )

    assert snapshot(database) == before


@pytest.mark.parametrize("fmt", list(RegistryFormat))
def test_export_then_import_round_trips_unchanged(
    database: Database, city: City, fmt: RegistryFormat
) -> None:
    run_import(
        database,
        registry(
            row("NEW-1", latitude="51.123456789012345", name='Gate "north", Сарыарқа'),
            row("NEW-2", longitude="71.35", district="west", site="PARK-1", status="planned"),
            row("NEW-3", installed_at="", vendor="", district=""),
        ),
    )
    before = snapshot(database)
    with database.session() as session:
        export = read_cameras(session)

    text = serialise(export.records, export.district_names, fmt)
    report = run_import(database, text.encode(), fmt)

    assert report.validation.problems == ()
    assert counts(report) == (0, 0, 4, 0)
    assert snapshot(database) == before


def test_export_of_one_district_holds_only_its_cameras(database: Database, city: City) -> None:
    run_import(database, registry(row("NEW-1"), row("NEW-2", longitude="71.35", district="")))

    with database.session() as session:
        west = read_cameras(session, {city.west_id})

    assert [record.code for record in west.records] == ["NEW-2", "OLD-1"]
    assert west.district_names == {city.west_id: "West"}


# --- the command line ---------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_database(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Database:
    """The SQLite test database, found by the CLI through SAFECITY_DATABASE__URL."""
    monkeypatch.chdir(tmp_path)  # no stray ./safecity.yaml
    monkeypatch.setenv("SAFECITY_DATABASE__URL", sqlite_database.url)
    monkeypatch.setenv("COLUMNS", "200")  # report lines unwrapped, for the assertions
    with sqlite_database.session() as session:
        add_district(session, "west", WEST)
        add_district(session, "east", EAST)
    return sqlite_database


def test_cli_imports_then_exports_a_registry_that_reimports_unchanged(
    cli_database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "cameras.csv"
    source.write_bytes(registry(row("NEW-1"), row("NEW-2", longitude="71.35", district="")))
    exported = tmp_path / "export.geojson"

    imported = runner.invoke(app, ["import", str(source)])
    written = runner.invoke(app, ["export", str(exported)])
    again = runner.invoke(app, ["import", str(exported)])

    assert imported.exit_code == 0, imported.output
    assert "imported: 2 created, 0 updated, 0 unchanged, 0 skipped" in imported.output
    assert written.exit_code == 0, written.output
    assert f"exported 2 cameras to {exported} (geojson)" in written.output
    assert len(json.loads(exported.read_text())["features"]) == 2
    assert again.exit_code == 0, again.output
    assert "imported: 0 created, 0 updated, 2 unchanged, 0 skipped" in again.output


def test_cli_rejects_a_file_with_bad_rows_and_prints_each_of_them(
    cli_database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "cameras.csv"
    source.write_bytes(
        registry(row("NEW-1"), row("BAD-1", main_stream_url="ftp://x/"), row("BAD-2", site="Z"))
    )

    result = runner.invoke(app, ["import", str(source)])

    assert result.exit_code == 1
    assert "3 rows checked, 1 good, 2 bad" in result.output
    assert "line 3" in result.output and "BAD-1" in result.output
    assert "main_stream_url: 'ftp://x/' has scheme 'ftp'" in result.output
    assert "line 4" in result.output and "site: unknown site code 'Z'" in result.output
    assert "nothing imported: 2 bad rows" in result.output
    assert cameras(cli_database) == {}


def test_cli_skip_invalid_exits_zero_and_says_how_many_were_skipped(
    cli_database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "cameras.csv"
    source.write_bytes(registry(row("NEW-1"), row("BAD-1", status="gone")))

    result = runner.invoke(app, ["import", str(source), "--skip-invalid"])

    assert result.exit_code == 0, result.output
    assert "imported: 1 created, 0 updated, 0 unchanged, 1 skipped" in result.output
    assert sorted(cameras(cli_database)) == ["NEW-1"]


def test_cli_dry_run_writes_nothing(cli_database: Database, tmp_path: Path) -> None:
    source = tmp_path / "cameras.csv"
    source.write_bytes(registry(row("NEW-1")))

    result = runner.invoke(app, ["import", str(source), "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "dry run, nothing written; would be: 1 created" in result.output
    assert cameras(cli_database) == {}


def test_cli_reads_the_format_from_the_flag_when_the_extension_says_nothing(
    cli_database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "cameras.txt"
    source.write_bytes(registry(row("NEW-1")))

    unknown = runner.invoke(app, ["import", str(source)])
    flagged = runner.invoke(app, ["import", str(source), "--format", "csv"])

    assert unknown.exit_code == 1
    assert "cannot tell the format from the name 'cameras.txt'" in unknown.output
    assert flagged.exit_code == 0, flagged.output


def test_cli_rejects_a_file_that_is_not_a_registry_and_writes_nothing(
    cli_database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "cameras.geojson"
    source.write_text('{"type": "FeatureCollection", "features": [')

    result = runner.invoke(app, ["import", str(source)])

    assert result.exit_code == 1
    assert "not valid JSON at line 1" in result.output
    assert "nothing imported" in result.output


def test_cli_reports_a_file_it_cannot_read(cli_database: Database, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(tmp_path / "missing.csv")])

    assert result.exit_code == 1
    assert "cannot read" in result.output and "No such file or directory" in result.output


def test_cli_says_when_there_are_no_districts(
    sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFECITY_DATABASE__URL", sqlite_database.url)
    source = tmp_path / "cameras.csv"
    source.write_bytes(registry(row("NEW-1")))

    result = runner.invoke(app, ["import", str(source)])

    assert result.exit_code == 1
    assert "no districts in the database: import districts or run `safecity demo` first" in (
        result.output
    )


def test_cli_refuses_a_database_whose_schema_is_not_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFECITY_DATABASE__URL", f"sqlite:///{tmp_path / 'new.db'}")
    source = tmp_path / "cameras.csv"
    source.write_bytes(registry(row("NEW-1")))

    imported = runner.invoke(app, ["import", str(source)])
    exported = runner.invoke(app, ["export", str(tmp_path / "out.csv")])

    probe = Database(f"sqlite:///{tmp_path / 'new.db'}")
    head = migrate.head_revision(probe)
    probe.dispose()
    for result in (imported, exported):
        assert result.exit_code == 1
        assert (
            f"database schema is not up to date (empty, code needs {head}): "
            "run `safecity db upgrade`"
        ) in result.output
    assert not (tmp_path / "out.csv").exists()


def test_cli_finds_the_database_through_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFECITY_DATABASE__URL", raising=False)
    database = Database(f"sqlite:///{tmp_path / 'configured.db'}")
    migrate.upgrade(database)
    with database.session() as session:
        add_camera(session, "CFG-1", add_district(session, "west", WEST))
    config = tmp_path / "safecity.yaml"
    config.write_text(f"database:\n  url: {database.url}\n")
    target = tmp_path / "out.csv"

    result = runner.invoke(app, ["export", str(target), "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in target.read_text().splitlines()] == [
        "camera_id",
        "CFG-1",
    ]
    database.dispose()


def test_cli_exports_one_district_by_name_or_code(cli_database: Database, tmp_path: Path) -> None:
    source = tmp_path / "cameras.csv"
    source.write_bytes(registry(row("EAST-1"), row("WEST-1", longitude="71.35", district="")))
    runner.invoke(app, ["import", str(source)])
    target = tmp_path / "west.csv"

    result = runner.invoke(app, ["export", str(target), "--district", "WEST"])
    unknown = runner.invoke(app, ["export", str(target), "--district", "North"])

    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in target.read_text().splitlines()] == [
        "camera_id",
        "WEST-1",
    ]
    assert unknown.exit_code == 1
    assert "unknown district 'North'" in unknown.output


def test_the_safecity_command_carries_the_cameras_commands(
    cli_database: Database, tmp_path: Path
) -> None:
    from safecity.cli import app as safecity

    result = runner.invoke(safecity, ["cameras", "export", str(tmp_path / "all.csv")])

    assert result.exit_code == 0, result.output
    assert "exported 0 cameras" in result.output


# --- column names other systems use -------------------------------------------------------------


def write_csv(path: Path, header: tuple[str, ...], *rows: tuple[str, ...]) -> Path:
    path.write_bytes(registry(*rows, header=header))
    return path


@pytest.mark.parametrize(
    ("header", "taken"),
    [
        (
            ("ID", "Name", "lat", "lng", "Stream URL"),
            "camera_id ← 'ID', name ← 'Name', latitude ← 'lat', longitude ← 'lng', "
            "main_stream_url ← 'Stream URL'",
        ),
        (
            ("camera", "title", "y", "x", "rtsp"),
            "camera_id ← 'camera', name ← 'title', latitude ← 'y', longitude ← 'x', "
            "main_stream_url ← 'rtsp'",
        ),
        (
            ("Код", "Название", "Широта", "Долгота", "url"),
            "camera_id ← 'Код', name ← 'Название', latitude ← 'Широта', longitude ← 'Долгота', "
            "main_stream_url ← 'url'",
        ),
    ],
    ids=["english", "gis", "russian"],
)
def test_cli_imports_common_column_names_and_says_which_column_gave_each_field(
    cli_database: Database, tmp_path: Path, header: tuple[str, ...], taken: str
) -> None:
    source = write_csv(
        tmp_path / "cameras.csv", header, ("NEW-1", "Gate", "51.15", "71.45", "rtsp://10.1.1.1/a")
    )

    dry = runner.invoke(app, ["import", str(source), "--dry-run"])
    real = runner.invoke(app, ["import", str(source)])

    assert dry.exit_code == 0, dry.output
    assert real.exit_code == 0, real.output
    for result in (dry, real):
        assert f"columns: {taken}" in result.output
        assert result.output.index("columns:") < result.output.index("1 row checked")
    assert "imported: 1 created" in real.output
    camera = cameras(cli_database)["NEW-1"]
    assert (camera.name, camera.latitude, camera.longitude) == ("Gate", 51.15, 71.45)
    assert camera.main_stream_url == "rtsp://10.1.1.1/a"


def test_cli_reads_common_property_names_of_a_geojson_file(
    cli_database: Database, tmp_path: Path
) -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [71.45, 51.15]},
        "properties": {"id": "GEO-1", "title": "Market", "stream_url": "rtsp://10.1.1.1/g"},
    }
    source = tmp_path / "cameras.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))

    result = runner.invoke(app, ["import", str(source)])

    assert result.exit_code == 0, result.output
    assert "columns: camera_id ← 'id', name ← 'title', main_stream_url ← 'stream_url'" in (
        result.output
    )
    assert cameras(cli_database)["GEO-1"].name == "Market"


def test_cli_takes_a_column_named_with_the_column_option(
    cli_database: Database, tmp_path: Path
) -> None:
    header = ("Номер", "name", "latitude", "longitude", "Видеопоток", "Примечание")
    source = write_csv(
        tmp_path / "cameras.csv",
        header,
        ("NEW-1", "Gate", "51.15", "71.45", "rtsp://10.1.1.1/a", "на углу"),
    )

    without = runner.invoke(app, ["import", str(source)])
    mapped = runner.invoke(
        app,
        ["import", str(source), "--column", "camera_id=номер", "--column",
         "main_stream_url=Видеопоток"],
    )  # fmt: skip

    assert without.exit_code == 1
    assert mapped.exit_code == 0, mapped.output
    assert "camera_id ← 'Номер'" in mapped.output
    assert "main_stream_url ← 'Видеопоток'" in mapped.output
    assert "ignored columns" in mapped.output and "Примечание" in mapped.output
    assert cameras(cli_database)["NEW-1"].main_stream_url == "rtsp://10.1.1.1/a"


def test_cli_refuses_two_columns_for_one_field_naming_both(
    cli_database: Database, tmp_path: Path
) -> None:
    header = ("camera_id", "name", "lat", "y", "longitude", "main_stream_url")
    row_values = ("NEW-1", "Gate", "51.15", "7000000", "71.45", "rtsp://10.1.1.1/a")
    source = write_csv(tmp_path / "cameras.csv", header, row_values)

    refused = runner.invoke(app, ["import", str(source)])
    chosen = runner.invoke(app, ["import", str(source), "--column", "latitude=lat"])

    assert refused.exit_code == 1
    assert (
        "columns 'lat' and 'y' would both be latitude: remove one, or choose with "
        "--column latitude=HEADER"
    ) in refused.output
    assert "nothing imported" in refused.output
    assert chosen.exit_code == 0, chosen.output
    assert "latitude ← 'lat'" in chosen.output
    assert cameras(cli_database)["NEW-1"].latitude == 51.15


def test_cli_names_a_missing_required_column_with_the_names_it_accepts(
    cli_database: Database, tmp_path: Path
) -> None:
    header = ("id", "name", "lat", "main_stream_url")
    source = write_csv(tmp_path / "cameras.csv", header, ("N-1", "Gate", "51.15", "rtsp://h/a"))

    result = runner.invoke(app, ["import", str(source)])

    assert result.exit_code == 1
    assert "header lacks required columns: longitude (also read from: lon, lng, long, x" in (
        result.output
    )
    assert "долгота" in result.output and "--column longitude=HEADER" in result.output
    assert cameras(cli_database) == {}


def test_cli_column_option_names_the_field_or_header_it_cannot_use(
    cli_database: Database, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "cameras.csv", HEADER, row("NEW-1"))

    unknown_field = runner.invoke(app, ["import", str(source), "--column", "camera=id"])
    no_equals = runner.invoke(app, ["import", str(source), "--column", "camera_id"])
    unknown_header = runner.invoke(app, ["import", str(source), "--column", "address=Адрес"])

    assert unknown_field.exit_code == 2
    assert "unknown field 'camera'" in unknown_field.output
    assert "camera_id, name, address" in unknown_field.output
    assert no_equals.exit_code == 2 and "FIELD=HEADER" in no_equals.output
    assert unknown_header.exit_code == 1
    assert "--column address=Адрес: the file has no column 'Адрес'" in unknown_header.output
    assert cameras(cli_database) == {}


def test_cli_canonical_column_wins_over_another_column_of_a_common_name(
    cli_database: Database, tmp_path: Path
) -> None:
    header = ("id", *HEADER)
    source = write_csv(tmp_path / "cameras.csv", header, ("17", *row("NEW-1")))

    result = runner.invoke(app, ["import", str(source)])

    assert result.exit_code == 0, result.output
    assert "camera_id ← 'camera_id'" in result.output
    assert "ignored columns" in result.output and "id" in result.output
    assert sorted(cameras(cli_database)) == ["NEW-1"]


# --- the audit log ------------------------------------------------------------------------------


def test_cli_import_is_audited_and_a_dry_run_or_refused_one_is_not(
    cli_database: Database, tmp_path: Path
) -> None:
    bad = write_csv(tmp_path / "bad.csv", HEADER, row("NEW-1"), row("BAD-1", status="gone"))
    good = write_csv(tmp_path / "cameras.csv", ("id", *HEADER[1:]), row("NEW-1"), row("NEW-2"))

    dry = runner.invoke(app, ["import", str(good), "--dry-run"])
    refused = runner.invoke(app, ["import", str(bad)])
    assert (dry.exit_code, refused.exit_code) == (0, 1)
    assert audit_entries(cli_database) == []

    imported = runner.invoke(app, ["import", str(good)])

    assert imported.exit_code == 0, imported.output
    [entry] = audit_entries(cli_database)
    assert (entry.action, entry.actor, entry.target) == (
        "cameras.import",
        f"cli:{getpass.getuser()}",
        "cameras",
    )
    assert entry.details == {
        "file": str(good.resolve()),
        "sha256": hashlib.sha256(good.read_bytes()).hexdigest(),
        "format": "csv",
        "columns": {"camera_id": "id", **{column: column for column in HEADER[1:]}},
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
