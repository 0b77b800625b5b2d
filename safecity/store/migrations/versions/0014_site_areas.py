"""A site may be drawn as an area (a park, a yard) as well as marked by a point

The city folder's sites.geojson carries a site as a Point or a (Multi)Polygon; the area is kept
as GeoJSON beside the site's point, which for an area is a point inside it.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sites", sa.Column("area", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("area")
