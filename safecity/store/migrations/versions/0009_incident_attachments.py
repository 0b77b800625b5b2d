"""Incident attachments and clip links

Files attached to incidents (stored under media/attachments/<incident id>/<uuid>) and links to
stretches of recorded video, each with the legal hold that keeps it. Neither is ever deleted:
removal and unlinking are stamped (who, when, why).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from safecity.store.base import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.Column("deleted_by", sa.String(length=200), nullable=True),
        sa.Column("deletion_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"],
            ["users.id"],
            name=op.f("fk_incident_attachments_deleted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_attachments_incident_id_incidents"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_incident_attachments_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_attachments")),
        sa.UniqueConstraint("file_name", name=op.f("uq_incident_attachments_file_name")),
    )
    with op.batch_alter_table("incident_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_attachments_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_clips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_by", sa.String(length=200), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.Column("unlinked_at", UTCDateTime(), nullable=True),
        sa.Column("unlinked_by_id", sa.Integer(), nullable=True),
        sa.Column("unlinked_by", sa.String(length=200), nullable=True),
        sa.Column("unlink_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_incident_clips_camera_id_cameras"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["legal_holds.id"],
            name=op.f("fk_incident_clips_hold_id_legal_holds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_clips_incident_id_incidents"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"],
            ["users.id"],
            name=op.f("fk_incident_clips_linked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unlinked_by_id"],
            ["users.id"],
            name=op.f("fk_incident_clips_unlinked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_clips")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_incident_clips_hold_id")),
    )
    with op.batch_alter_table("incident_clips", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_clips_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_clips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_clips_incident_id"))
    op.drop_table("incident_clips")
    with op.batch_alter_table("incident_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_attachments_incident_id"))
    op.drop_table("incident_attachments")
