"""Shared fixtures: a migrated database on SQLite and, where it runs, PostgreSQL.

Each is migrated once per run, not once per test (a migration from nothing takes a third of a
second on SQLite): an SQLite test gets a copy of a template file that `db upgrade` made, a
PostgreSQL test the run's database emptied back to what `db upgrade` leaves. Tests whose subject
is migrating (tests/store/test_migrations.py, the CLI's `db upgrade`) make databases of their own.

PostgreSQL is found at SAFECITY_TEST_POSTGRES_URL (default: the local server, user postgres,
database test). When it cannot be reached its tests are skipped with the reason, except
under CI=true, where a missing service fails the run instead of hiding it.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2.profiles import CHEAPEST
from sqlalchemy import create_engine, delete, insert, select, text
from sqlalchemy.engine import make_url

from safecity.auth import passwords
from safecity.logs import CHATTY_LOGGERS, SERVER_LOGGERS
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.store.models import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "SAFECITY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_unavailable() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return (
            f"PostgreSQL not reachable at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {exc}"
        )
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL server, or a skip (a failure under CI=true)."""
    reason = _postgres_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL. {reason}")
        pytest.skip(reason)
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_database_factory(postgres_server: str) -> Iterator[object]:
    """Creates throw-away databases on the server and drops them at the end of the run."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create() -> str:
        name = f"safecity_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(postgres_server).set(database=name).render_as_string(hide_password=False)

    yield create
    with admin.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class _PostgresAsUpgraded:
    """The run's PostgreSQL database, put back before each test to what `db upgrade` left.

    Its rows (the built-in incident types) and sequence values are read once after the
    migration. Deleting every row and writing those back takes a few hundredths of a second;
    TRUNCATE takes most of one, since it makes every table's files anew.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        with database.engine.connect() as connection:
            self.rows = {
                table: [dict(row) for row in connection.execute(select(table)).mappings()]
                for table in Base.metadata.sorted_tables
            }
            self.sequences = [
                (name, value, called)
                for name, value, called in connection.execute(
                    text(
                        "SELECT format('%I.%I', schemaname, sequencename),"
                        " coalesce(last_value, start_value), last_value IS NOT NULL"
                        " FROM pg_sequences"
                    )
                )
            ]

    def reset(self) -> None:
        with self.database.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
            for table, rows in self.rows.items():
                if rows:
                    connection.execute(insert(table), rows)
            for name, value, called in self.sequences:
                connection.execute(
                    text("SELECT setval(CAST(:name AS regclass), :value, :called)"),
                    {"name": name, "value": value, "called": called},
                )


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_database_factory: object) -> Iterator[_PostgresAsUpgraded]:
    assert callable(postgres_database_factory)
    database = Database(postgres_database_factory())
    migrate.upgrade(database)
    yield _PostgresAsUpgraded(database)
    database.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file as `db upgrade` leaves it, made once per run for tests to copy."""
    path = tmp_path_factory.mktemp("template") / "safecity.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    database.dispose()
    # Closing the last connection moved the write-ahead log into the file: the file is all.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


def _sqlite_copy(template: Path, folder: Path) -> Database:
    path = folder / "safecity.db"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: run once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        db = _sqlite_copy(request.getfixturevalue("_sqlite_template"), tmp_path)
        yield db
        db.dispose()
    else:
        postgres: _PostgresAsUpgraded = request.getfixturevalue("_postgres_migrated")
        postgres.reset()
        yield postgres.database


@pytest.fixture
def sqlite_database(_sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated SQLite database, for tests whose subject is not the backend."""
    db = _sqlite_copy(_sqlite_template, tmp_path)
    yield db
    db.dispose()


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Passwords hashed at Argon2's cheapest cost: at the production cost every hash, and every
    sign-in that checks one, takes a fifth of a second of CPU. `production_password_cost` puts
    the real cost back for a test that checks it."""
    passwords.hash_with_cost(CHEAPEST)
    yield
    passwords.hash_with_cost(passwords.PRODUCTION_COST)


@pytest.fixture
def production_password_cost() -> Iterator[None]:
    passwords.hash_with_cost(passwords.PRODUCTION_COST)
    yield
    passwords.hash_with_cost(CHEAPEST)


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """Every `safecity` command a test runs sets up the log (safecity/logs.py): put it back, so
    that no test sees another's level or handler."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = [logging.getLogger(name) for name in (*SERVER_LOGGERS, *CHATTY_LOGGERS)]
    states = [(list(one.handlers), one.level, one.propagate) for one in loggers]
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for one, (one_handlers, one_level, propagate) in zip(loggers, states, strict=True):
        one.handlers[:] = one_handlers
        one.setLevel(one_level)
        one.propagate = propagate
