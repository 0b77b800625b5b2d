"""Schema migrations (Alembic) run from code, so `safecity db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from safecity.store.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(
    database: Database, revision: str = "head", *, evidence_root: Path | None = None
) -> None:
    """Migrate to ``revision``. ``evidence_root`` is the settings' evidence folder, which
    revision 0015 needs to record packages relative to it (without it their paths stay)."""
    with database.engine.begin() as connection:
        config = _config(database)
        config.attributes["connection"] = connection
        config.attributes["evidence_root"] = evidence_root
        command.upgrade(config, revision)


def downgrade(database: Database, revision: str, *, evidence_root: Path | None = None) -> None:
    with database.engine.begin() as connection:
        config = _config(database)
        config.attributes["connection"] = connection
        config.attributes["evidence_root"] = evidence_root
        command.downgrade(config, revision)


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(_config(database)).get_current_head()


def is_known(database: Database, revision: str) -> bool:
    """Whether this code's migrations contain ``revision``: one they do not was written by
    another (usually newer) version of SafeCity."""
    try:
        return ScriptDirectory.from_config(_config(database)).get_revision(revision) is not None
    except CommandError:
        return False


def is_up_to_date(database: Database) -> bool:
    return current_revision(database) == head_revision(database)
