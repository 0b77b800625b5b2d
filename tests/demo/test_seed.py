"""Seeding the demo city, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safecity.auth.models import User
from safecity.auth.passwords import verify_password
from safecity.city.folder import cli as city_cli
from safecity.city.models import Camera, District, Organization, PoliceUnit, Site
from safecity.demo.city import DEMO_PASSWORD, DemoCity
from safecity.demo.seed import AlreadySeededError, seed_demo_city
from safecity.insights.models import CrimeRecord
from safecity.ops.incident_types.models import StoredIncidentType
from safecity.store.engine import Database


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _district_codes(session: Session, model: type[Camera | Site | CrimeRecord]) -> dict[str, str]:
    rows = session.execute(select(model.code, District.code).join(model.district))
    return {code: district for code, district in rows}


def _small(city: DemoCity) -> DemoCity:
    """Every district, site and login, but only some cameras and crimes: quick to seed."""
    return dataclasses.replace(city, cameras=city.cameras[::25], crimes=city.crimes[::100])


def test_seeds_the_whole_city_within_seconds(database: Database, demo_city: DemoCity) -> None:
    report = seed_demo_city(database, demo_city)
    with database.session() as session:
        assert _count(session, District) == report.districts == 5
        assert _count(session, Organization) == len(demo_city.organizations)
        assert _count(session, PoliceUnit) == len(demo_city.police_units)
        assert _count(session, Site) == len(demo_city.sites)
        assert _count(session, Camera) == len(demo_city.cameras)
        assert _count(session, CrimeRecord) == len(demo_city.crimes)
        assert _count(session, User) == len(demo_city.users)
    assert report.seconds < 10


def test_districts_derived_from_positions_match_the_generator(
    database: Database, demo_city: DemoCity
) -> None:
    seed_demo_city(database, demo_city)
    with database.session() as session:
        cameras = _district_codes(session, Camera)
        sites = _district_codes(session, Site)
        crimes = _district_codes(session, CrimeRecord)
    assert cameras == {camera.code: camera.district_code for camera in demo_city.cameras}
    assert sites == {site.code: site.district_code for site in demo_city.sites}
    assert crimes == {crime.code: crime.district_code for crime in demo_city.crimes}


def test_seeded_rows_keep_what_the_generator_made(database: Database, demo_city: DemoCity) -> None:
    city = _small(demo_city)
    seed_demo_city(database, city)
    expected = city.cameras[3]
    with database.session() as session:
        camera = session.scalars(select(Camera).where(Camera.code == expected.code)).one()
        assert (camera.latitude, camera.longitude) == (expected.latitude, expected.longitude)
        assert camera.main_stream_url == expected.main_stream_url
        assert camera.status is expected.status and camera.installed_at == expected.installed_at
        assert (camera.site.code if camera.site else None) == expected.site_code
        site = session.scalars(select(Site).where(Site.code == city.sites[0].code)).one()
        assert site.schedule == list(city.sites[0].schedule)
        assert site.tasks == list(city.sites[0].tasks)
        assert site.owner is not None and site.owner.code == city.sites[0].owner_code
        crime = session.scalars(
            select(CrimeRecord).where(CrimeRecord.code == city.crimes[0].code)
        ).one()
        assert crime.occurred_at == city.crimes[0].occurred_at
        assert crime.solved_at == city.crimes[0].solved_at
        assert crime.solved == (city.crimes[0].solved_at is not None)


def test_police_units_cover_their_districts(database: Database, demo_city: DemoCity) -> None:
    seed_demo_city(database, _small(demo_city))
    with database.session() as session:
        units = {unit.code: unit for unit in session.scalars(select(PoliceUnit))}
        for planned in demo_city.police_units:
            unit = units[planned.code]
            assert sorted(d.code for d in unit.districts) == sorted(planned.district_codes)
            assert unit.is_fallback is planned.is_fallback


def test_demo_logins_work_and_are_linked(database: Database, demo_city: DemoCity) -> None:
    seed_demo_city(database, _small(demo_city))
    with database.session() as session:
        users = {user.username: user for user in session.scalars(select(User))}
        # One Argon2 check per distinct hash: the demo hashes its one password once.
        for password_hash in {user.password_hash for user in users.values()}:
            assert verify_password(password_hash, DEMO_PASSWORD)
        for planned in demo_city.users:
            user = users[planned.username]
            assert user.role is planned.role
            assert (
                user.organization.code if user.organization else None
            ) == planned.organization_code
            assert (user.police_unit.code if user.police_unit else None) == planned.police_unit_code


def test_seeding_twice_refuses(database: Database, demo_city: DemoCity) -> None:
    seed_demo_city(database, _small(demo_city))
    with pytest.raises(AlreadySeededError, match="already has 5 districts"):
        seed_demo_city(database, _small(demo_city))
    with database.session() as session:
        assert _count(session, Camera) == len(_small(demo_city).cameras)


def test_reset_replaces_the_city(database: Database, demo_city: DemoCity) -> None:
    seed_demo_city(database, _small(demo_city))
    fewer = dataclasses.replace(_small(demo_city), cameras=demo_city.cameras[:7], crimes=())
    seed_demo_city(database, fewer, reset=True)
    with database.session() as session:
        assert _count(session, District) == 5
        assert session.scalars(select(Camera.code).order_by(Camera.code)).all() == [
            camera.code for camera in demo_city.cameras[:7]
        ]
        assert _count(session, CrimeRecord) == 0
        assert _count(session, StoredIncidentType) == 11  # the built-in ones, as after upgrade


def test_the_demo_city_is_a_city_folder_that_exports_back_unchanged(
    database: Database,
    demo_city: DemoCity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "city"
    report = seed_demo_city(database, _small(demo_city), folder=folder)
    assert report.folder == folder
    monkeypatch.setenv("SAFECITY_DATABASE__URL", database.url)
    exported = CliRunner().invoke(city_cli.app, ["export", str(tmp_path / "exported")])
    assert exported.exit_code == 0, exported.output
    written = sorted(path.name for path in folder.iterdir())
    assert written == sorted(path.name for path in (tmp_path / "exported").iterdir())
    assert "cameras.csv" in written and "districts.geojson" in written
    for name in written:
        assert (folder / name).read_bytes() == (tmp_path / "exported" / name).read_bytes(), name
