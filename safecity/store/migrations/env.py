"""Alembic environment: the URL and metadata come from SafeCity, not from an alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from safecity.store.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through safecity.store.migrate, which passes a connection")
_run(connection)
