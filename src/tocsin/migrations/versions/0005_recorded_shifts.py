"""recorded shifts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:32:28.324108
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recorded_shifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("source", sa.String(length=250), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shift_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recorded_shifts")),
        sa.UniqueConstraint(
            "schedule", "user_id", "source", "start_at", name="uq_recorded_shifts_piece"
        ),
    )
    with op.batch_alter_table("recorded_shifts", schema=None) as batch_op:
        batch_op.create_index("ix_recorded_shifts_range", ["schedule", "end_at"], unique=False)

    op.create_table(
        "shift_watermarks",
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("schedule", name=op.f("pk_shift_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("shift_watermarks")
    with op.batch_alter_table("recorded_shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_recorded_shifts_range")

    op.drop_table("recorded_shifts")
