"""alert responders and alert requests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responders", sa.JSON(), nullable=True))
    op.create_table(
        "alert_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("integration", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("alias", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"],
                                name=op.f("fk_alert_requests_alert_id_alerts"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_requests")),
    )


def downgrade() -> None:
    op.drop_table("alert_requests")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("responders")
