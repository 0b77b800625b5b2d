"""Alert rules and analytics intake

Alert rules per camera, site, district or the whole city (priority or suppress, minimum
confidence, weekly schedule); alerts gain their area group (the first alert's id and a key).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from safecity.store.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "city",
                "district",
                "site",
                "camera",
                name="alert_rule_scope",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("camera_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("suppress", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_alert_rules_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_alert_rules_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_alert_rules_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_alert_rules_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rules_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_rules_district_id"), ["district_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_rules_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rules_site_id"), ["site_id"], unique=False)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("group_key", sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_group_id_alerts"),
            "alerts",
            ["group_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_alerts_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_group_key"), ["group_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_group_key"))
        batch_op.drop_index(batch_op.f("ix_alerts_group_id"))
        batch_op.drop_constraint(batch_op.f("fk_alerts_group_id_alerts"), type_="foreignkey")
        batch_op.drop_column("group_key")
        batch_op.drop_column("group_id")

    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rules_site_id"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_kind"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_district_id"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_camera_id"))
    op.drop_table("alert_rules")
