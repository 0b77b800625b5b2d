"""The migrations build exactly the schema the models describe, and undo cleanly, on both
SQLite and PostgreSQL."""

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from safecity.store import migrate
from safecity.store.engine import Database
from safecity.store.models import Base


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
