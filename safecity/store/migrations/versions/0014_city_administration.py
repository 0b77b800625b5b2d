"""The city administered in place: sites drawn as areas, and deactivation kept as a flag

The city folder's sites.geojson carries a site as a Point or a (Multi)Polygon; the area is kept
as GeoJSON beside the site's point, which for an area is a point inside it. Districts,
organizations, police units and sites are deactivated rather than deleted, so that incidents,
crime records and the audit log that name them keep their meaning.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEACTIVATED = ("districts", "organizations", "police_units", "sites")


def upgrade() -> None:
    op.add_column("sites", sa.Column("area", sa.JSON(), nullable=True))
    for table in _DEACTIVATED:
        op.add_column(
            table, sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch table copy: copying districts or
    # sites with foreign keys on would fail on their cameras, or take them with it.
    for table in _DEACTIVATED:
        op.drop_column(table, "active")
    op.drop_column("sites", "area")
