"""Camera passwords out of the stream URLs

Each stream URL gets a column for its sealed (encrypted) whole form; the URL column keeps it with
the password hidden. The key lives in a file outside the database, so this migration cannot
encrypt: ``safecity db upgrade`` seals the passwords still in clear right after migrating
(``safecity.city.stream_credentials.seal_stored_credentials``; also
``safecity cameras seal-credentials``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("main_stream_sealed", sa.Text(), nullable=True))
    op.add_column("cameras", sa.Column("sub_stream_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    sealed = op.get_bind().scalar(
        sa.text(
            "SELECT count(*) FROM cameras"
            " WHERE main_stream_sealed IS NOT NULL OR sub_stream_sealed IS NOT NULL"
        )
    )
    if sealed:
        # Dropping the columns would lose those passwords for good: the URLs show them as ***.
        raise RuntimeError(
            f"cameras with sealed stream passwords: {sealed}; export them with "
            "`safecity cameras export --with-credentials` and re-enter them after downgrading"
        )
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("sub_stream_sealed")
        batch.drop_column("main_stream_sealed")
