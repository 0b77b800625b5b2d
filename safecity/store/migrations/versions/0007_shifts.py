"""Shifts, handover and SLA escalations

Operators work in shifts (at most one on at a time) with a supervisor; ending a shift writes a
handover listing what was still open. An alert or incident that overruns a stage's time limit
is escalated to the supervisor on shift: an alert once per stage, an incident once per clock
(each transition into a waiting status starts a new one).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from safecity.store.base import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("supervisor", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["users.id"],
            name=op.f("fk_shifts_supervisor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_ended_at"), ["ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shifts_started_at"), ["started_at"], unique=False)

    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("next_shift_id", sa.Integer(), nullable=True),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=True),
        sa.Column("written_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("open_alerts", sa.JSON(), nullable=False),
        sa.Column("open_alert_count", sa.Integer(), nullable=False),
        sa.Column("open_incidents", sa.JSON(), nullable=False),
        sa.Column("open_incident_count", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_handovers_acknowledged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["next_shift_id"],
            ["shifts.id"],
            name=op.f("fk_handovers_next_shift_id_shifts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.id"],
            name=op.f("fk_handovers_shift_id_shifts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"],
            ["users.id"],
            name=op.f("fk_handovers_written_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
        sa.UniqueConstraint("shift_id", name=op.f("uq_handovers_shift_id")),
    )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handovers_next_shift_id"), ["next_shift_id"], unique=False
        )

    op.create_table(
        "shift_operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("left_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.id"],
            name=op.f("fk_shift_operators_shift_id_shifts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_shift_operators_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_operators")),
    )
    with op.batch_alter_table("shift_operators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_operators_shift_id"), ["shift_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shift_operators_user_id"), ["user_id"], unique=False)

    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "acknowledge",
                "dispatch",
                "accept",
                "arrive",
                name="sla_stage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("clock_event_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("threshold_seconds", sa.Float(), nullable=False),
        sa.Column("escalated_at", UTCDateTime(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("supervisor", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_escalations_acknowledged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_escalations_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clock_event_id"],
            ["incident_events.id"],
            name=op.f("fk_escalations_clock_event_id_incident_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_escalations_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.id"],
            name=op.f("fk_escalations_shift_id_shifts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["users.id"],
            name=op.f("fk_escalations_supervisor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("alert_id", "stage", name=op.f("uq_escalations_alert_id")),
        sa.UniqueConstraint(
            "incident_id", "stage", "clock_event_id", name=op.f("uq_escalations_incident_id")
        ),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalations_acknowledged_at"), ["acknowledged_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_escalations_escalated_at"), ["escalated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_escalated_at"))
        batch_op.drop_index(batch_op.f("ix_escalations_acknowledged_at"))

    op.drop_table("escalations")
    with op.batch_alter_table("shift_operators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shift_operators_user_id"))
        batch_op.drop_index(batch_op.f("ix_shift_operators_shift_id"))

    op.drop_table("shift_operators")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handovers_next_shift_id"))

    op.drop_table("handovers")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shifts_started_at"))
        batch_op.drop_index(batch_op.f("ix_shifts_ended_at"))

    op.drop_table("shifts")
