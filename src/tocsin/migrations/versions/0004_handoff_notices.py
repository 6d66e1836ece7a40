"""handoff notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 17:07:29.948326
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("shift_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_notices")),
        sa.UniqueConstraint(
            "schedule", "user_id", "shift_start", "kind", name="uq_handoff_notices_shift"
        ),
    )
    with op.batch_alter_table("handoff_notices", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_notices_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_notices_due")

    op.drop_table("handoff_notices")
