"""`safecity city import|export`: a whole city from a folder of files, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from safecity.city.folder.cli import app
from safecity.city.models import Camera, District, Organization, PoliceUnit, Site
from safecity.store.engine import Database
from tests.audit.entries import audit_entries
from tests.city_files import YARD, district, feature_collection, table, write_city
from tests.factories import EAST, WEST, square

runner = CliRunner()


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The test database, found by the CLI through SAFECITY_DATABASE__URL."""
    monkeypatch.setenv("SAFECITY_DATABASE__URL", database.url)
    return database


def counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (District, Organization, PoliceUnit, Site, Camera)
        }


def district_of(database: Database, camera_code: str) -> str:
    with database.sessions() as session:
        return session.scalars(
            select(District.code)
            .join(Camera, Camera.district_id == District.id)
            .where(Camera.code == camera_code)
        ).one()


def test_a_city_is_imported_from_its_folder_and_exported_unchanged(
    cli_database: Database, tmp_path: Path
) -> None:
    source = write_city(tmp_path / "city")

    imported = runner.invoke(app, ["import", str(source)])
    assert imported.exit_code == 0, imported.output
    assert counts(cli_database) == {
        "districts": 2,
        "organizations": 6,
        "police_units": 3,
        "sites": 2,
        "cameras": 3,
    }
    assert district_of(cli_database, "CAM-ST") == "east"
    with cli_database.sessions() as session:
        yard = session.scalars(select(Site).where(Site.code == "YARD-1")).one()
        assert yard.area == YARD and yard.district.code == "west"
        assert yard.tasks[0]["kind"] == "loitering"
        unit = session.scalars(select(PoliceUnit).where(PoliceUnit.code == "unit-west")).one()
        assert [d.code for d in unit.districts] == ["west"]

    first = runner.invoke(app, ["export", str(tmp_path / "first")])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["import", str(tmp_path / "first")])
    assert again.exit_code == 0, again.output
    assert "created" in again.output
    assert counts(cli_database)["cameras"] == 3
    second = runner.invoke(app, ["export", str(tmp_path / "second")])
    assert second.exit_code == 0, second.output
    names = sorted(path.name for path in (tmp_path / "first").iterdir())
    assert names == [
        "cameras.csv",
        "districts.geojson",
        "incident_types.yaml",
        "organizations.csv",
        "police_units.csv",
        "sites.geojson",
    ]
    for name in names:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    first, second = audit_entries(cli_database, "city.import")
    assert first.actor.startswith("cli:")
    assert set(first.details["sha256"]) == set(names) - {"incident_types.yaml"}
    assert set(second.details["sha256"]) == set(names)


def test_an_exported_city_imports_into_an_empty_database_as_the_same_city(
    cli_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["import", str(write_city(tmp_path / "city"))]).exit_code == 0
    assert runner.invoke(app, ["export", str(tmp_path / "out")]).exit_code == 0
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    from safecity.store import migrate

    migrate.upgrade(fresh)
    monkeypatch.setenv("SAFECITY_DATABASE__URL", fresh.url)
    assert runner.invoke(app, ["import", str(tmp_path / "out")]).exit_code == 0
    assert runner.invoke(app, ["export", str(tmp_path / "again")]).exit_code == 0
    for path in (tmp_path / "out").iterdir():
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes(), path.name
    fresh.dispose()


def test_a_dry_run_reports_and_writes_nothing(cli_database: Database, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(write_city(tmp_path / "city")), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing written" in result.output
    assert set(counts(cli_database).values()) == {0}


BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[71.3, 51.1], [71.4, 51.2], [71.4, 51.1], [71.3, 51.2], [71.3, 51.1]]],
}


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (
            {
                "districts.geojson": feature_collection(
                    [district("west", "West", BOW_TIE), district("east", "East", square(EAST))]
                )
            },
            "districts.geojson feature 1 (west): geometry: invalid polygon: Self-intersection",
        ),
        (
            {
                "districts.geojson": feature_collection(
                    [
                        district("west", "West", square(WEST)),
                        district("east", "East", square((71.38, 51.10, 71.50, 51.20))),
                    ]
                )
            },
            "districts.geojson feature 2 (east): geometry: overlaps district 'west'",
        ),
        (
            {
                "districts.geojson": feature_collection(
                    [
                        district(
                            "west",
                            "West",
                            {
                                "type": "Polygon",
                                "coordinates": [
                                    [
                                        [7130000, 5110000],
                                        [7140000, 5110000],
                                        [7140000, 5120000],
                                        [7130000, 5110000],
                                    ]
                                ],
                            },
                        ),
                        district("east", "East", square(EAST)),
                    ]
                )
            },
            "are not WGS 84 longitude/latitude",
        ),
        (
            {
                "police_units.csv": table(
                    ("code", "name", "organization", "districts", "fallback"),
                    ("unit-west", "West Division", "police", "west north", "yes"),
                )
            },
            "police_units.csv line 2 (unit-west): districts: unknown district 'north'",
        ),
        (
            {
                "police_units.csv": table(
                    ("code", "name", "organization", "districts"),
                    ("unit-west", "West Division", "water", "west"),
                )
            },
            "organization: 'water' is utility, not police",
        ),
        (
            {
                "organizations.csv": table(
                    ("code", "name", "kind", "district"),
                    ("akimat-west", "West Akimat", "akimat", ""),
                    ("police", "City Police", "police", ""),
                    ("water", "Water", "utility", ""),
                    ("akimat-east", "East", "akimat", "east"),
                )
            },
            "organizations.csv line 2 (akimat-west): district: a district akimat needs its district",
        ),
        (
            {
                "sites.geojson": feature_collection(
                    [
                        {
                            "type": "Feature",
                            "properties": {"code": "FAR", "name": "Far", "kind": "park"},
                            "geometry": {"type": "Point", "coordinates": [72.0, 51.15]},
                        }
                    ]
                )
            },
            "sites.geojson feature 1 (FAR): latitude: latitude 51.15, longitude 72.0 lies "
            "outside every district",
        ),
        (
            {
                "sites.geojson": feature_collection(
                    [
                        {
                            "type": "Feature",
                            "properties": {
                                "code": "PUMP-1",
                                "name": "Pump",
                                "kind": "utility_facility",
                                "owner": "gas",
                            },
                            "geometry": {"type": "Point", "coordinates": [71.45, 51.15]},
                        }
                    ]
                )
            },
            "sites.geojson feature 1 (PUMP-1): owner: unknown organization 'gas'",
        ),
        (
            {
                "organizations.csv": table(
                    ("code", "name", "kind"),
                    ("akimat-city", "City", "ministry"),
                )
            },
            "organizations.csv line 2: kind: 'ministry' is not one of akimat",
        ),
        (
            {
                "cameras.csv": table(
                    ("camera_id", "name", "latitude", "longitude", "main_stream_url"),
                    ("CAM-1", "Somewhere", "51.15", "75.0", "rtsp://10.0.0.1/main"),
                )
            },
            "cameras.csv line 2 (CAM-1): position: latitude 51.15, longitude 75.0 lies outside",
        ),
    ],
    ids=[
        "self-intersecting",
        "overlapping",
        "projected",
        "unknown-district",
        "not-police",
        "akimat-without-district",
        "site-outside",
        "unknown-owner",
        "bad-kind",
        "camera-outside",
    ],
)
def test_a_bad_file_is_reported_with_file_place_and_field_and_nothing_is_written(
    cli_database: Database, tmp_path: Path, replace: dict[str, str], expected: str
) -> None:
    result = runner.invoke(app, ["import", str(write_city(tmp_path / "city", **replace))])
    assert result.exit_code == 1, result.output
    assert expected in result.output, result.output
    assert "nothing was written" in result.output
    assert set(counts(cli_database).values()) == {0}


def _move_border(folder: Path, longitude: float) -> None:
    folder.mkdir()
    west = (WEST[0], WEST[1], longitude, WEST[3])
    east = (longitude, EAST[1], EAST[2], EAST[3])
    (folder / "districts.geojson").write_text(
        feature_collection(
            [
                district("west", "West district", square(west), 120_000),
                district("east", "East district", square(east), 95_000),
            ]
        )
    )


def test_moving_a_border_moves_the_cameras_and_sites_it_passes_and_says_so(
    cli_database: Database, tmp_path: Path
) -> None:
    city = write_city(tmp_path / "city")
    assert runner.invoke(app, ["import", str(city)]).exit_code == 0
    assert district_of(cli_database, "CAM-ST") == "east"

    border = tmp_path / "border"
    _move_border(border, 71.41)
    result = runner.invoke(app, ["import", str(border), "--only", "districts"])
    assert result.exit_code == 0, result.output
    assert "1 moved to another district" in result.output
    assert "camera CAM-ST (Street corner): east → west" in result.output
    assert district_of(cli_database, "CAM-ST") == "west"
    assert district_of(cli_database, "CAM-PUMP") == "east"
    [entry] = audit_entries(cli_database, "city.import")[1:]
    assert entry.details["moved"] == ["camera CAM-ST: east → west"]


def test_a_border_that_leaves_a_camera_outside_every_district_is_refused_unless_kept(
    cli_database: Database, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["import", str(write_city(tmp_path / "city"))]).exit_code == 0
    shrunk = tmp_path / "shrunk"
    shrunk.mkdir()
    (shrunk / "districts.geojson").write_text(
        feature_collection(
            [
                district("west", "West district", square(WEST), 120_000),
                district("east", "East district", square((71.42, 51.10, 71.50, 51.20)), 95_000),
            ]
        )
    )
    refused = runner.invoke(app, ["import", str(shrunk)])
    assert refused.exit_code == 1, refused.output
    assert "camera CAM-ST (Street corner) at 51.15, 71.405 would lie outside every district" in (
        refused.output
    )
    assert "nothing was written" in refused.output
    with cli_database.sessions() as session:
        east = session.scalars(select(District).where(District.code == "east")).one()
        assert east.geometry == square(EAST)

    kept = runner.invoke(app, ["import", str(shrunk), "--keep-outside"])
    assert kept.exit_code == 0, kept.output
    assert "1 outside every district, kept where they were" in kept.output
    assert district_of(cli_database, "CAM-ST") == "east"


def test_a_folder_with_both_sites_files_or_none_is_refused(
    cli_database: Database, tmp_path: Path
) -> None:
    city = write_city(tmp_path / "city")
    (city / "sites.csv").write_text("code,name,kind,latitude,longitude\n")
    both = runner.invoke(app, ["import", str(city)])
    assert both.exit_code == 1
    assert "has both sites.csv and sites.geojson" in " ".join(both.output.split())
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(app, ["import", str(empty)])
    assert nothing.exit_code == 1
    assert "has none of the city files" in " ".join(nothing.output.split())
    assert set(counts(cli_database).values()) == {0}


def test_sites_csv_with_russian_headers_and_semicolons_is_read(
    cli_database: Database, tmp_path: Path
) -> None:
    city = write_city(tmp_path / "city")
    (city / "sites.geojson").unlink()
    (city / "sites.csv").write_text(
        "Код;Название;Тип;Адрес;Широта;Долгота;Владелец;Задачи\n"
        'YARD-1;Двор 1;yard;ул. Кенесары, 4;51.125;71.325;akimat-west;"[{""kind"": '
        '""loitering"", ""description"": ""Ночью у подъезда""}]"\n'  # noqa: RUF001
        "PUMP-1;Насосная;utility_facility;;51.15;71.45;water;\n",
        encoding="utf-8-sig",
    )
    result = runner.invoke(app, ["import", str(city)])
    assert result.exit_code == 0, result.output
    with cli_database.sessions() as session:
        yard = session.scalars(select(Site).where(Site.code == "YARD-1")).one()
        assert (yard.name, yard.district.code, yard.tasks[0]["description"]) == (
            "Двор 1",
            "west",
            "Ночью у подъезда",  # noqa: RUF001
        )
    exported = runner.invoke(app, ["export", str(tmp_path / "out"), "--sites-format", "csv"])
    assert exported.exit_code == 0, exported.output
    again = runner.invoke(app, ["import", str(tmp_path / "out")])
    assert again.exit_code == 0, again.output
    assert re.search(r"sites\s*│\s*0\s*│\s*0\s*│\s*2\s*│", again.output), again.output


def test_deactivating_a_district_that_still_holds_cameras_names_them_and_is_refused(
    cli_database: Database, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["import", str(write_city(tmp_path / "city"))]).exit_code == 0
    retired = tmp_path / "retired"
    retired.mkdir()
    (retired / "districts.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "east", "name": "East district", "active": False},
                        "geometry": square(EAST),
                    }
                ],
            }
        )
    )
    result = runner.invoke(app, ["import", str(retired)])
    assert result.exit_code == 1, result.output
    assert "camera CAM-ST (Street corner) at 51.15, 71.405 would lie outside every district" in (
        result.output
    )
    assert "camera CAM-PUMP (Pump gate)" in result.output
    assert "site PUMP-1 (Pumping station)" in result.output
    with cli_database.sessions() as session:
        assert session.scalars(select(District.active).where(District.code == "east")).one()


def test_an_active_akimat_of_a_deactivated_district_is_refused(
    cli_database: Database, tmp_path: Path
) -> None:
    districts = feature_collection(
        [
            district("west", "West district", square(WEST)),
            {
                **district("east", "East district", square(EAST)),
                "properties": {"code": "east", "name": "East district", "active": "no"},
            },
        ]
    )
    city = write_city(
        tmp_path / "city",
        **{
            "districts.geojson": districts,
            "cameras.csv": "camera_id,name,latitude,longitude,main_stream_url\n",
        },
    )
    (city / "sites.geojson").unlink()
    result = runner.invoke(app, ["import", str(city)])
    assert result.exit_code == 1, result.output
    assert "organizations.csv line 4 (akimat-east): district: district 'east' is deactivated" in (
        result.output
    )
    assert "police_units.csv line 3 (unit-east): districts: district 'east' is deactivated" in (
        result.output
    )


def test_the_example_city_folder_of_the_docs_imports_and_exports_unchanged(
    cli_database: Database, tmp_path: Path
) -> None:
    example = Path(__file__).parents[2] / "docs" / "example-city"
    result = runner.invoke(app, ["import", str(example)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["export", str(tmp_path / "out")]).exit_code == 0
    for path in example.iterdir():
        assert path.read_bytes() == (tmp_path / "out" / path.name).read_bytes(), path.name


def test_camera_passwords_in_a_city_folder_are_sealed_and_exported_only_when_asked(
    cli_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFECITY_DATA_DIR", str(tmp_path / "data"))
    cameras = table(
        ("camera_id", "name", "latitude", "longitude", "main_stream_url"),
        ("CAM-1", "Gate", "51.125", "71.325", "rtsp://viewer:s3cret@10.0.0.1/main"),
    )
    city = write_city(tmp_path / "city", **{"cameras.csv": cameras})
    assert runner.invoke(app, ["import", str(city)]).exit_code == 0
    with cli_database.sessions() as session:
        stored = session.scalars(select(Camera).where(Camera.code == "CAM-1")).one()
        assert "s3cret" not in stored.main_stream_url and stored.main_stream_sealed
        assert "s3cret" not in stored.main_stream_sealed
    assert runner.invoke(app, ["export", str(tmp_path / "masked")]).exit_code == 0
    masked = (tmp_path / "masked" / "cameras.csv").read_text()
    assert "viewer:***@10.0.0.1" in masked and "s3cret" not in masked
    again = runner.invoke(app, ["import", str(tmp_path / "masked")])
    assert again.exit_code == 0, again.output
    clear = runner.invoke(app, ["export", str(tmp_path / "clear"), "--with-credentials"])
    assert clear.exit_code == 0, clear.output
    exported = tmp_path / "clear" / "cameras.csv"
    assert "viewer:s3cret@10.0.0.1" in exported.read_text()
    assert exported.stat().st_mode & 0o777 == 0o600
    assert len(audit_entries(cli_database, "cameras.export_credentials")) == 1


def test_the_city_folder_carries_the_incident_types_and_their_checklists(
    cli_database: Database, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["export", str(tmp_path / "out")]).exit_code == 0
    types = tmp_path / "out" / "incident_types.yaml"
    text = types.read_text()
    assert "code: theft" in text
    types.write_text(
        text.replace("Review the camera footage around the reported time", "Call the shop owner")
    )
    result = runner.invoke(app, ["import", str(tmp_path / "out"), "--only", "incident_types"])
    assert result.exit_code == 0, result.output
    assert re.search(r"incident types\s*│\s*0\s*│\s*1\s*│", result.output), result.output
    assert runner.invoke(app, ["export", str(tmp_path / "again")]).exit_code == 0
    assert "Call the shop owner" in (tmp_path / "again" / "incident_types.yaml").read_text()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "incident_types.yaml").write_text(text.replace("priority: 3", "priority: 7", 1))
    refused = runner.invoke(app, ["import", str(broken)])
    assert refused.exit_code == 1
    assert "incident_types.yaml entry" in refused.output and "priority" in refused.output


def test_two_districts_may_swap_their_names(cli_database: Database, tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", str(write_city(tmp_path / "city"))]).exit_code == 0
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    (swapped / "districts.geojson").write_text(
        feature_collection(
            [
                district("west", "East district", square(WEST), 120_000),
                district("east", "West district", square(EAST), 95_000),
            ]
        )
    )
    result = runner.invoke(app, ["import", str(swapped)])
    assert result.exit_code == 0, result.output
    with cli_database.sessions() as session:
        names = {code: name for code, name in session.execute(select(District.code, District.name))}
    assert names == {"west": "East district", "east": "West district"}


def test_references_that_the_city_would_break_are_refused(
    cli_database: Database, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["import", str(write_city(tmp_path / "city"))]).exit_code == 0
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "organizations.csv").write_text(
        table(
            ("code", "name", "kind", "district", "active"),
            ("old-akimat", "Old akimat", "akimat", "nosuch", "no"),
        )
    )
    result = runner.invoke(app, ["import", str(changed)])
    assert result.exit_code == 1, result.output
    assert "organizations.csv line 2 (old-akimat): district: unknown district 'nosuch'" in (
        result.output
    )
    (changed / "organizations.csv").write_text(
        table(("code", "name", "kind", "district"), ("police", "City Police", "akimat", "west"))
    )
    result = runner.invoke(app, ["import", str(changed)])
    assert result.exit_code == 1, result.output
    assert "organization 'police' is akimat now, but police unit 'unit-east'" in result.output
    with cli_database.sessions() as session:
        kind = session.scalars(select(Organization.kind).where(Organization.code == "police"))
        assert kind.one() == "police"


def test_units_stored_earlier_count_as_covering_their_districts(
    cli_database: Database, tmp_path: Path
) -> None:
    units = table(
        ("code", "name", "organization", "districts"),
        ("unit-west", "West Division", "police", "west"),
        ("unit-east", "East Division", "police", "east"),
    )
    assert (
        runner.invoke(
            app, ["import", str(write_city(tmp_path / "city", **{"police_units.csv": units}))]
        ).exit_code
        == 0
    )
    only_west = tmp_path / "west"
    only_west.mkdir()
    (only_west / "police_units.csv").write_text(
        table(
            ("code", "name", "organization", "districts"), ("unit-west", "West", "police", "west")
        )
    )
    result = runner.invoke(app, ["import", str(only_west)])
    assert result.exit_code == 0, result.output
    assert "no unit covers" not in result.output


def test_a_semicolon_file_that_starts_with_a_blank_line_is_read(
    cli_database: Database, tmp_path: Path
) -> None:
    city = write_city(tmp_path / "city")
    (city / "organizations.csv").write_text(
        "\r\ncode;name;kind;district;city_wide\r\nakimat-city;City Akimat;akimat;;yes\r\n"
        "akimat-west;West Akimat;akimat;west;no\r\nakimat-east;East Akimat;akimat;east;no\r\n"
        "police;City Police;police;;no\r\nwater;Water;utility;;no\r\nocc;OCC;operator_center;;no\r\n"
    )
    result = runner.invoke(app, ["import", str(city)])
    assert result.exit_code == 0, result.output


def test_a_number_too_large_for_a_float_is_a_problem_not_a_crash(
    cli_database: Database, tmp_path: Path
) -> None:
    huge = "1" + "0" * 400

    def districts(population: str, longitude: str) -> str:
        return (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            f'{{"code": "west", "name": "West", "population": {population}}}, "geometry": '
            f'{{"type": "Polygon", "coordinates": [[[{longitude}, 51.1], [71.4, 51.1], '
            "[71.4, 51.2], [71.3, 51.1]]]}}]}"
        )

    city = write_city(tmp_path / "city", **{"districts.geojson": districts("5", huge)})
    result = runner.invoke(app, ["import", str(city)])
    assert result.exit_code == 1, result.output
    assert "districts.geojson feature 1 (west): geometry: coordinates must be" in result.output
    (city / "districts.geojson").write_text(districts(huge, "71.3"))
    result = runner.invoke(app, ["import", str(city)])
    assert result.exit_code == 1, result.output
    assert "districts.geojson feature 1: population:" in result.output
    assert "is not a finite number" in result.output
    assert set(counts(cli_database).values()) == {0}
