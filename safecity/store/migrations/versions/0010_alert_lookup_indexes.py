"""Indexes for folding and grouping alerts

Folding looks up the latest open alert of a dedup key, grouping the open alerts of a kind seen
in the last minutes. With single-column indexes SQLite read every open alert (its status index)
for each new one, so intake slowed as unacknowledged alerts piled up; (key, last_at) and
(kind, last_at) make both a short index range.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_alerts_dedup_key_last_at", "alerts", ["dedup_key", "last_at"])
    op.create_index("ix_alerts_kind_last_at", "alerts", ["kind", "last_at"])
    op.drop_index("ix_alerts_dedup_key", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_dedup_key", "alerts", ["dedup_key"])
    op.drop_index("ix_alerts_kind_last_at", table_name="alerts")
    op.drop_index("ix_alerts_dedup_key_last_at", table_name="alerts")
