"""report speed: each alert's first acknowledgement kept on the alert

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 07:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (see 0022: a batch rebuild of `alerts` would cascade).
    op.add_column("alerts", sa.Column("first_acknowledged_at", sa.DateTime(timezone=True),
                                      nullable=True))
    # One statement, one index seek per acknowledged alert (ix_alert_events_first): the
    # earliest `acknowledged` event, whatever happened to the alert after it.
    op.execute(sa.text(
        "UPDATE alerts SET first_acknowledged_at = ("
        " SELECT min(e.at) FROM alert_events e"
        " WHERE e.alert_id = alerts.id AND e.kind = 'acknowledged')"
        " WHERE id IN (SELECT alert_id FROM alert_events WHERE kind = 'acknowledged')"))


def downgrade() -> None:
    op.drop_column("alerts", "first_acknowledged_at")  # SQLite 3.35+ drops it in place
