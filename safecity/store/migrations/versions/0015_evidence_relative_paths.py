"""Evidence packages recorded by their path in the evidence folder

The export log kept each package's zip by its absolute path, so after a restore onto another
machine or data folder every download answered 410. A zip inside the evidence folder is now
recorded relative to it and found there at read time; one written elsewhere (``--out``) keeps
its absolute path. ``safecity db upgrade`` passes the evidence folder of its settings; where no
folder is passed (a bare schema upgrade, as in the tests) the paths are left as they were, and
an absolute path still reads as before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_exports = sa.table("evidence_exports", sa.column("id", sa.Integer), sa.column("path", sa.Text))


def _root() -> Path | None:
    root = context.config.attributes.get("evidence_root")
    return Path(os.path.abspath(root)) if root is not None else None


def upgrade() -> None:
    root = _root()
    if root is None:
        return
    connection = op.get_bind()
    for export_id, stored in connection.execute(sa.select(_exports.c.id, _exports.c.path)):
        # Relative paths were written relative to the working folder (a relative data_dir).
        path = Path(os.path.abspath(stored))
        if path.is_relative_to(root):
            relative = path.relative_to(root).as_posix()
            connection.execute(
                _exports.update().where(_exports.c.id == export_id).values(path=relative)
            )


def downgrade() -> None:
    root = _root()
    if root is None:
        return
    connection = op.get_bind()
    for export_id, stored in connection.execute(sa.select(_exports.c.id, _exports.c.path)):
        if not Path(stored).is_absolute():
            connection.execute(
                _exports.update().where(_exports.c.id == export_id).values(path=str(root / stored))
            )
