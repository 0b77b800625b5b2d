"""The migrations build exactly the schema the models describe, and undo cleanly, on both
SQLite and PostgreSQL."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.exc import IntegrityError

from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import Camera, District, OrganizationKind
from safecity.insights.models import CrimeRecord
from safecity.ops.incident_types.models import StoredIncidentType
from safecity.ops.models import Incident
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.store.models import Base
from tests import factories as f


def _check_round_trip(database: Database) -> None:
    assert migrate.current_revision(database) is None
    migrate.upgrade(database)
    assert migrate.is_up_to_date(database)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert set(Base.metadata.tables) <= set(inspect(database.engine).get_table_names())
    migrate.downgrade(database, "base")
    assert migrate.current_revision(database) is None
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database)
    assert migrate.is_up_to_date(database)


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    _check_round_trip(database)
    database.dispose()


@pytest.mark.postgres
def test_migrations_match_models_on_postgres(postgres_database_factory: Callable[[], str]) -> None:
    database = Database(postgres_database_factory())
    _check_round_trip(database)
    database.dispose()


def test_0002_states_city_wide_for_the_akimat_that_had_no_district(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(database, "0001")
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO organizations (code, name, kind, created_at) VALUES "
            "('city-akimat', 'City akimat', 'akimat', '2026-01-01'), "
            "('water', 'Water company', 'utility', '2026-01-01')"
        )
    migrate.upgrade(database)
    with database.engine.connect() as connection:
        rows = dict(connection.exec_driver_sql("SELECT code, city_wide FROM organizations").all())
    assert rows == {"city-akimat": 1, "water": 0}
    database.dispose()


def test_a_district_an_akimat_administers_cannot_be_deleted(database: Database) -> None:
    with database.session() as session:
        west = f.add_district(session, "west", f.WEST)
        f.add_organization(session, "akimat-west", OrganizationKind.AKIMAT, west)
    with pytest.raises(IntegrityError), database.session() as session:
        session.execute(delete(District).where(District.code == "west"))
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(District)) == 1


def test_0013_links_existing_incidents_to_version_1_of_their_type(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(database, "0011")
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO incidents (number, type_code, priority, status, latitude, longitude, "
            "opened_by, opened_at) VALUES "
            "('2026-000001', 'robbery', 1, 'new', 51.1, 71.4, 'anna', '2026-01-01'), "
            "('2026-000002', 'ufo_sighting', 4, 'closed', 51.1, 71.4, 'anna', '2026-01-01')"
        )
        connection.exec_driver_sql(
            "INSERT INTO incident_events (incident_id, at, actor, kind, details) "
            "VALUES (1, '2026-01-01', 'anna', 'note', '{}')"
        )
    migrate.upgrade(database)
    with database.session() as session:
        robbery, ufo = session.scalars(select(Incident).order_by(Incident.id)).all()
        assert robbery.checklist.version == 1
        assert robbery.checklist.steps[0] == (
            "Keep the scene on camera and follow the suspect across cameras"
        )
        assert robbery.checklist.incident_type.crime_kind == "robbery"
        assert len(robbery.events) == 1
        assert ufo.checklist.incident_type.active is False
        assert ufo.checklist.incident_type.name == "ufo_sighting"
        assert session.scalar(select(func.count()).select_from(StoredIncidentType)) == 12


def test_0012_will_not_be_undone_while_camera_passwords_are_sealed(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'sealed.db'}")
    migrate.upgrade(database)
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        f.add_camera(
            session, "W-1", district, main_stream_url="rtsp://a:***@h/", main_stream_sealed="t"
        )

    with pytest.raises(RuntimeError, match="cameras with sealed stream passwords: 1"):
        migrate.downgrade(database, "0011")

    assert migrate.is_up_to_date(database)
    with database.session() as session:
        session.execute(delete(Camera))
    migrate.downgrade(database, "0011")
    assert migrate.current_revision(database) == "0011"
    database.dispose()


def _check_0019_keeps_public_places(database: Database) -> None:
    migrate.upgrade(database, "0018")
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO districts (code, name, geometry, created_at) "
            "VALUES ('W', 'west', '{}', '2026-01-01')"
        )
        district_id = connection.exec_driver_sql("SELECT id FROM districts").scalar_one()
        connection.exec_driver_sql(
            "INSERT INTO crime_records (code, occurred_at, kind, public_place, latitude, "
            f"longitude, district_id, created_at) VALUES "
            f"('ERDR-1', '2026-01-02', 'theft', true, 51.1, 71.4, {district_id}, '2026-01-02'), "
            f"('ERDR-2', '2026-01-02', 'fraud', false, 51.1, 71.4, {district_id}, '2026-01-02')"
        )
    migrate.upgrade(database)
    with database.engine.connect() as connection:
        upgraded = connection.exec_driver_sql(
            "SELECT code, place_kind, solved, source FROM crime_records ORDER BY code"
        ).all()
    assert [tuple(row) for row in upgraded] == [
        ("ERDR-1", "public_place", False, "register"),
        ("ERDR-2", "other", False, "register"),
    ]
    with database.engine.begin() as connection:
        # An OCC record, without a position (0018 requires one): it goes, and does not block.
        connection.exec_driver_sql(
            "INSERT INTO crime_records (code, occurred_at, kind, place_kind, solved, source, "
            f"district_id, created_at) VALUES ('OCC-7', '2026-01-03', 'theft', 'street', false, "
            f"'occ', {district_id}, '2026-01-03')"
        )
    migrate.downgrade(database, "0018")
    with database.engine.connect() as connection:
        downgraded = connection.exec_driver_sql(
            "SELECT code, public_place FROM crime_records ORDER BY code"
        ).all()
    assert [(code, bool(public)) for code, public in downgraded] == [
        ("ERDR-1", True),
        ("ERDR-2", False),
    ]


def test_0019_turns_the_public_place_flag_into_a_place_kind_and_back_on_sqlite(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'crimes.db'}")
    _check_0019_keeps_public_places(database)
    database.dispose()


@pytest.mark.postgres
def test_0019_turns_the_public_place_flag_into_a_place_kind_and_back_on_postgres(
    postgres_database_factory: Callable[[], str],
) -> None:
    database = Database(postgres_database_factory())
    _check_0019_keeps_public_places(database)
    database.dispose()


def test_0019_will_not_go_down_while_a_crime_record_has_no_position(database: Database) -> None:
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        session.add(
            CrimeRecord(
                code="ERDR-9",
                occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district_id=district.id,
            )
        )
    with pytest.raises(RuntimeError, match="1 crime records have no position"):
        migrate.downgrade(database, "0018")
    assert migrate.is_up_to_date(database)
