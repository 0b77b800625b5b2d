"""Video analytics: rules and privacy masks, events, counts of city life

Rules per camera or per site (a site's apply to each of its cameras) kept as the rule models
dump them; each camera's privacy masks; the events the rules raised, indexed for forensic
search by time, camera, district and kind; people and vehicles counted per 15 minutes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from safecity.store.base import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "(camera_id IS NULL) <> (site_id IS NULL)",
            name=op.f("ck_analytics_rules_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_analytics_rules_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_analytics_rules_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rules")),
        sa.UniqueConstraint("camera_id", "name", name=op.f("uq_analytics_rules_camera_id")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_analytics_rules_site_id")),
    )
    op.create_table(
        "analytics_camera_masks",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("polygons", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_analytics_camera_masks_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_analytics_camera_masks")),
    )
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_class", sa.String(length=32), nullable=True),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("boxes", sa.JSON(), nullable=False),
        sa.Column("frame_size", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.String(length=300), nullable=True),
        sa.Column("clip_start", UTCDateTime(), nullable=False),
        sa.Column("clip_end", UTCDateTime(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_analytics_events_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_analytics_events_site_id_sites"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_analytics_events_district_id_districts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["analytics_rules.id"],
            name=op.f("fk_analytics_events_rule_id_analytics_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_analytics_events_alert_id_alerts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analytics_events_at"), ["at"], unique=False)
        batch_op.create_index("ix_analytics_events_camera_id_at", ["camera_id", "at"], unique=False)
        batch_op.create_index(
            "ix_analytics_events_district_id_at", ["district_id", "at"], unique=False
        )
        batch_op.create_index("ix_analytics_events_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_events_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_analytics_events_alert_id"), ["alert_id"], unique=False
        )
    op.create_table(
        "traffic_counts",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("bin_start", UTCDateTime(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_name", sa.String(length=100), nullable=False),
        sa.Column("object_class", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_traffic_counts_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "camera_id",
            "bin_start",
            "scope",
            "scope_name",
            "object_class",
            "direction",
            name=op.f("pk_traffic_counts"),
        ),
    )


def downgrade() -> None:
    # A write first, as in 0016: pysqlite begins a transaction only before a write, so a DROP
    # as the first statement would commit at once, and a later step refusing to go down would
    # leave revision 0017 without its tables.
    op.execute(sa.text("DELETE FROM traffic_counts"))
    op.drop_table("traffic_counts")
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_events_alert_id"))
        batch_op.drop_index(batch_op.f("ix_analytics_events_rule_id"))
        batch_op.drop_index("ix_analytics_events_kind_at")
        batch_op.drop_index("ix_analytics_events_district_id_at")
        batch_op.drop_index("ix_analytics_events_camera_id_at")
        batch_op.drop_index(batch_op.f("ix_analytics_events_at"))
    op.drop_table("analytics_events")
    op.drop_table("analytics_camera_masks")
    op.drop_table("analytics_rules")
