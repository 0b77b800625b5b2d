"""Why a legal hold was released

Releasing a hold lets retention delete what may be evidence, so it now needs a reason, kept
beside who released it and when. Holds released before this revision keep an empty reason.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("legal_holds", sa.Column("release_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("legal_holds") as batch:
        batch.drop_column("release_reason")
