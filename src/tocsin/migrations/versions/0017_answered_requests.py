"""answered requests: a Slack click or a Twilio reply acts once

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 02:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answered_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answered_requests")),
        sa.UniqueConstraint("source", "key", name="uq_answered_requests_source_key"),
    )
    with op.batch_alter_table("answered_requests", schema=None) as batch_op:
        batch_op.create_index("ix_answered_requests_answered_at", ["answered_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answered_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_answered_requests_answered_at")

    op.drop_table("answered_requests")
