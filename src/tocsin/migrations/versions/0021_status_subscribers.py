"""status page subscribers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_subscribers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("components", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_status_subscribers_address", "status_subscribers", ["address"])
    op.create_table(
        "status_notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("status_subscribers.id"),
                  nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("update_id", sa.Integer, nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("subscriber_id", "update_id",
                            name="uq_status_notices_subscriber_update"),
    )
    op.create_index("ix_status_notices_due", "status_notices", ["state", "due_at"])
    op.create_table(
        "status_fanout",
        sa.Column("update_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    # Updates written before subscribers existed are not sent to anyone.
    op.execute("INSERT INTO status_fanout (update_id, at) "
               "SELECT id, created_at FROM status_incident_updates")


def downgrade() -> None:
    op.drop_table("status_fanout")
    op.drop_index("ix_status_notices_due", table_name="status_notices")
    op.drop_table("status_notices")
    op.drop_index("ix_status_subscribers_address", table_name="status_subscribers")
    op.drop_table("status_subscribers")
