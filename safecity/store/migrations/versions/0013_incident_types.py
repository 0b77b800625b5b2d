"""Incident types and their checklist versions are stored data

The built-in catalogue (safecity/ops/incident_types/default.yaml) is seeded here, so a fresh
database has the standard types right after `safecity db upgrade`, and every existing incident
is linked to version 1 of its type's checklist: the steps it was shown until now. An incident
whose type is not in the catalogue (none should exist: opening one checked the code) keeps its
code through a deactivated type of that name with the catalogue's "other" checklist.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from safecity.ops.incident_types.file import BUILT_IN, default_incident_types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CRIME_KINDS = (
    "theft",
    "robbery",
    "assault",
    "hooliganism",
    "vandalism",
    "fraud",
    "drugs",
    "vehicle_theft",
    "other",
)


def upgrade() -> None:
    types = op.create_table(
        "incident_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("default_priority", sa.Integer(), nullable=False),
        sa.Column(
            "crime_kind",
            sa.Enum(*CRIME_KINDS, name="crime_kind", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_types")),
        sa.UniqueConstraint("code", name=op.f("uq_incident_types_code")),
    )
    checklists = op.create_table(
        "incident_type_checklists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["incident_types.id"],
            name=op.f("fk_incident_type_checklists_type_id_incident_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_type_checklists")),
        sa.UniqueConstraint("type_id", "version", name=op.f("uq_incident_type_checklists_type_id")),
    )
    op.create_table(
        "incident_checklists",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_id"],
            ["incident_type_checklists.id"],
            name=op.f("fk_incident_checklists_checklist_id_incident_type_checklists"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_checklists_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_checklists")),
    )
    with op.batch_alter_table("incident_checklists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_checklists_checklist_id"), ["checklist_id"], unique=False
        )
    _seed(types, checklists)


def _seed(types: sa.Table, checklists: sa.Table) -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    catalogue = {kind.code: kind for kind in default_incident_types()}
    used = connection.scalars(sa.text("SELECT DISTINCT type_code FROM incidents")).all()
    rows = [
        {
            "code": kind.code,
            "name": kind.name,
            "default_priority": kind.default_priority,
            "crime_kind": kind.crime_kind.value if kind.crime_kind else None,
            "active": kind.active,
            "steps": list(kind.checklist),
        }
        for kind in catalogue.values()
    ] + [
        {
            "code": code,
            "name": code,
            "default_priority": catalogue["other"].default_priority,
            "crime_kind": None,
            "active": False,
            "steps": list(catalogue["other"].checklist),
        }
        for code in sorted(set(used) - set(catalogue))
    ]
    for row in rows:
        type_id = _insert(
            connection,
            types.insert().values(
                {
                    **{key: value for key, value in row.items() if key != "steps"},
                    "created_at": now,
                    "updated_at": now,
                }
            ),
        )
        checklist_id = _insert(
            connection,
            checklists.insert().values(
                type_id=type_id,
                version=1,
                steps=row["steps"],
                created_at=now,
                created_by=BUILT_IN,
            ),
        )
        connection.execute(
            sa.text(
                "INSERT INTO incident_checklists (incident_id, checklist_id) "
                "SELECT id, :checklist_id FROM incidents WHERE type_code = :code"
            ),
            {"checklist_id": checklist_id, "code": row["code"]},
        )


def _insert(connection: sa.Connection, statement: sa.Insert) -> int:
    key = connection.execute(statement).inserted_primary_key
    assert key is not None
    return int(key[0])


def downgrade() -> None:
    with op.batch_alter_table("incident_checklists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_checklists_checklist_id"))
    op.drop_table("incident_checklists")
    op.drop_table("incident_type_checklists")
    op.drop_table("incident_types")
