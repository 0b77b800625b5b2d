"""Camera installation requests; crime records with place kind, clearance and source

``camera_requests`` holds the requests of akimats and the police for new cameras through their
review to the installed camera. ``crime_records`` gains the register's place kind (street,
other public place, dwelling, other) in place of the public-place flag, whether and when a crime
was solved, where the record came from (the register or an OCC incident), and a position that
may be unknown (a register row that names only the district).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from safecity.store.base import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PLACE_KIND = sa.Enum(
    "street", "public_place", "dwelling", "other", name="place_kind", native_enum=False, length=32
)
_SOURCE = sa.Enum("register", "occ", name="crime_source", native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "camera_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="request_urgency",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "under_review",
                "approved",
                "rejected",
                "installed",
                name="request_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("camera_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("installed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_camera_requests_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_camera_requests_district_id_districts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_camera_requests_site_id_sites"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_requests_camera_id_cameras"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_camera_requests_submitted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_camera_requests_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_camera_requests_number")),
    )
    with op.batch_alter_table("camera_requests") as batch:
        batch.create_index(
            batch.f("ix_camera_requests_organization_id"), ["organization_id"], unique=False
        )
        batch.create_index(batch.f("ix_camera_requests_district_id"), ["district_id"], unique=False)
        batch.create_index(batch.f("ix_camera_requests_status"), ["status"], unique=False)

    with op.batch_alter_table("crime_records") as batch:
        batch.add_column(sa.Column("place_kind", _PLACE_KIND, nullable=True))
        batch.add_column(
            sa.Column("solved", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("solved_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("source", _SOURCE, nullable=False, server_default="register"))
        batch.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_crime_records_incident_id_incidents"),
            "incidents",
            ["incident_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_unique_constraint(batch.f("uq_crime_records_incident_id"), ["incident_id"])
        batch.alter_column("latitude", existing_type=sa.Float(), nullable=True)
        batch.alter_column("longitude", existing_type=sa.Float(), nullable=True)
    op.execute(
        sa.text(
            "UPDATE crime_records SET place_kind = "
            "CASE WHEN public_place THEN 'public_place' ELSE 'other' END"
        )
    )
    with op.batch_alter_table("crime_records") as batch:
        batch.alter_column("place_kind", existing_type=_PLACE_KIND, nullable=False)
        batch.drop_column("public_place")
        batch.alter_column("solved", server_default=None)
        batch.alter_column("source", server_default=None)


def downgrade() -> None:
    # The OCC's records go: 0018 has no column to tell them from the police register's, and they
    # would be counted as register records there. Nothing is lost: the counter rebuilds them
    # from the closed incidents on the next start after upgrading again (insights.crimes.occ).
    # This DELETE is also the first write, so the check below rolls it back with the rest.
    op.execute(sa.text("DELETE FROM crime_records WHERE source = 'occ'"))
    # A record without a position cannot go back to a schema that requires one.
    unplaced = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM crime_records WHERE latitude IS NULL OR longitude IS NULL")
    )
    if unplaced:
        raise RuntimeError(
            f"{unplaced} crime records have no position, which revision 0018 requires; "
            "delete or place them before going down"
        )
    # A write first: pysqlite begins a transaction only before a write, and SQLite's batch
    # rebuilds below must be undone with the rest if a later step refuses to go down (0012).
    op.execute(sa.text("DELETE FROM camera_requests"))
    with op.batch_alter_table("crime_records") as batch:
        batch.add_column(
            sa.Column("public_place", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        sa.text("UPDATE crime_records SET public_place = place_kind IN ('street', 'public_place')")
    )
    with op.batch_alter_table("crime_records") as batch:
        batch.alter_column("public_place", server_default=None)
        batch.drop_constraint(batch.f("uq_crime_records_incident_id"), type_="unique")
        batch.drop_constraint(batch.f("fk_crime_records_incident_id_incidents"), type_="foreignkey")
        batch.drop_column("incident_id")
        batch.drop_column("source")
        batch.drop_column("solved_at")
        batch.drop_column("solved")
        batch.drop_column("place_kind")
        batch.alter_column("latitude", existing_type=sa.Float(), nullable=False)
        batch.alter_column("longitude", existing_type=sa.Float(), nullable=False)
    op.drop_table("camera_requests")
