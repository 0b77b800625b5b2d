"""organizations.city_wide is stated, not inferred; an administered district cannot be deleted

Before, an akimat with no district counted as the city akimat, and deleting a district set its
akimat's district to NULL: that akimat's users would have seen the whole city. Now city-wide is
a column of its own, and the district foreign key refuses the delete.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_organizations_district_id_districts"


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.add_column(
            sa.Column("city_wide", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.create_foreign_key(
            FOREIGN_KEY, "districts", ["district_id"], ["id"], ondelete="RESTRICT"
        )
    # What was implied so far becomes explicit: an akimat without a district is the city's.
    op.execute(
        "UPDATE organizations SET city_wide = TRUE WHERE kind = 'akimat' AND district_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.create_foreign_key(
            FOREIGN_KEY, "districts", ["district_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.drop_column("city_wide")
