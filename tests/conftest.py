"""Shared fixtures: a migrated database on SQLite and, where it runs, PostgreSQL.

PostgreSQL is found at SAFECITY_TEST_POSTGRES_URL (default: the local server, user postgres,
database test). When it cannot be reached its tests are skipped with the reason, except
under CI=true, where a missing service fails the run instead of hiding it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from safecity.logs import CHATTY_LOGGERS, SERVER_LOGGERS
from safecity.ops.incident_types.file import BUILT_IN, default_incident_types
from safecity.ops.incident_types.store import apply_incident_types
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


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_database_factory: object) -> Iterator[Database]:
    assert callable(postgres_database_factory)
    database = Database(postgres_database_factory())
    migrate.upgrade(database)
    yield database
    database.dispose()


def _empty_all_tables(database: Database) -> None:
    """Back to what `db upgrade` leaves: no rows but the built-in incident types it seeds."""
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    with database.session() as session:
        apply_incident_types(session, default_incident_types(), author=BUILT_IN)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: run once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'safecity.db'}")
        migrate.upgrade(db)
        yield db
        db.dispose()
    else:
        db = request.getfixturevalue("_postgres_migrated")
        _empty_all_tables(db)
        yield db


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated SQLite database, for tests whose subject is not the backend."""
    db = Database(f"sqlite:///{tmp_path / 'safecity.db'}")
    migrate.upgrade(db)
    yield db
    db.dispose()


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
