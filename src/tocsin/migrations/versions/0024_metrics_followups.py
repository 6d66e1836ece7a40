"""metrics: indexes for the report's window queries

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 07:00:00
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An alert's first acknowledgement in one seek (MTTA, transient alerts, response time).
    op.create_index("ix_alert_events_first", "alert_events", ["alert_id", "kind", "at"])
    # Pages sent in a window (pages per person, interruptions).
    op.create_index("ix_deliveries_finished", "deliveries",
                    ["status", "finished_at", "user_id", "alert_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_finished", table_name="deliveries")
    op.drop_index("ix_alert_events_first", table_name="alert_events")
