"""schedule overrides

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 16:46:51.742735
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("replaces", sa.String(length=320), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("surface", sa.String(length=40), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_overrides")),
    )
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.create_index("ix_schedule_overrides_range", ["schedule", "end_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_overrides_range")

    op.drop_table("schedule_overrides")
