"""Camera health: the figures of the picture's analysis

``camera_streams.analytics`` holds what the camera's analytics last measured (decode, analysed
and skipped frames a second, detector milliseconds, the share of the picture moving); null
where the camera is not analysed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("camera_streams") as batch:
        batch.add_column(sa.Column("analytics", sa.JSON(), nullable=True))


def downgrade() -> None:
    # A write first: pysqlite begins a transaction only before a write, and SQLite's batch
    # rebuild of the table (CREATE, copy, DROP, RENAME) must be undone with the rest if a later
    # step refuses to go down (0012 with sealed passwords).
    op.execute(sa.text("UPDATE camera_streams SET analytics = NULL"))
    with op.batch_alter_table("camera_streams") as batch:
        batch.drop_column("analytics")
