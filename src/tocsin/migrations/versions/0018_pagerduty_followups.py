"""pagerduty follow-ups: the acknowledge and resolve of forwarded alerts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pagerduty_followups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("routing_key", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"],
            name=op.f("fk_pagerduty_followups_alert_id_alerts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pagerduty_followups")),
    )
    with op.batch_alter_table("pagerduty_followups", schema=None) as batch_op:
        batch_op.create_index("ix_pagerduty_followups_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_pagerduty_followups_alert", ["alert_id", "status"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pagerduty_followups", schema=None) as batch_op:
        batch_op.drop_index("ix_pagerduty_followups_alert")
        batch_op.drop_index("ix_pagerduty_followups_due")

    op.drop_table("pagerduty_followups")
