"""Named counters: incident numbers from a counter row, not from the audit log's lock

An incident's number was the year's highest number + 1, read under the audit log's append
lock, so opening an incident waited for every audited action in the city and they for it. A
year's number now comes from its row in ``counters`` (locked only until the opening commits).
The row is made by the first incident opened after this upgrade, starting after the highest
number stored for that year, so nothing is copied here. SQLite takes its write lock with a
no-op write to this table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )


def downgrade() -> None:
    # A write first: pysqlite begins a transaction only before a write, so a DROP as the first
    # statement would commit at once, and a later step refusing to go down (0012 with sealed
    # passwords) would leave revision 0016 without its table.
    op.execute(sa.text("DELETE FROM counters"))
    op.drop_table("counters")
