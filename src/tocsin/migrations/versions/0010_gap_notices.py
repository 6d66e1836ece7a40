"""gap notices

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gap_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("gap_key", sa.String(length=60), nullable=False),
        sa.Column("gap_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gap_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_notices")),
        sa.UniqueConstraint("schedule", "gap_key", "user_id", name="uq_gap_notices_gap"),
    )
    with op.batch_alter_table("gap_notices", schema=None) as batch_op:
        batch_op.create_index("ix_gap_notices_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gap_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_gap_notices_due")

    op.drop_table("gap_notices")
