"""post-mortems, action items, shift surveys, not-actionable alerts

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 06:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postmortems",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer,
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("users_affected", sa.Integer, nullable=True),
        sa.Column("estimated_cost", sa.String(200), nullable=True),
        sa.Column("support_tickets", sa.Integer, nullable=True),
        sa.Column("timeline", sa.JSON, nullable=False),
        sa.Column("root_cause", sa.Text, nullable=False),
        sa.Column("root_cause_category", sa.String(80), nullable=True),
        sa.Column("whys", sa.JSON, nullable=False),
        sa.Column("contributing_factors", sa.Text, nullable=False),
        sa.Column("went_well", sa.Text, nullable=False),
        sa.Column("went_badly", sa.Text, nullable=False),
        sa.Column("lessons", sa.Text, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("review_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("incident_id", name="uq_postmortems_incident"),
    )
    op.create_index("ix_postmortems_status", "postmortems", ["status", "published_at"])
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer,
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("postmortem_id", sa.Integer,
                  sa.ForeignKey("postmortems.id", ondelete="SET NULL"), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tracker", sa.String(20), nullable=True),
        sa.Column("tracker_key", sa.String(200), nullable=True),
        sa.Column("tracker_url", sa.Text, nullable=True),
        sa.Column("tracker_status", sa.String(80), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_action_items_incident", "action_items", ["incident_id"])
    op.create_index("ix_action_items_open", "action_items", ["status", "due_date"])
    op.create_index("ix_action_items_owner", "action_items", ["owner", "status"])
    op.create_table(
        "shift_surveys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("shift_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shift_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("user_id", "schedule", "shift_end", name="uq_shift_surveys_shift"),
    )
    op.create_index("ix_shift_surveys_due", "shift_surveys", ["sent_at", "due_at"])
    # A plain ADD COLUMN: a batch rebuild of `alerts` on SQLite would drop the table,
    # and its ON DELETE CASCADE would empty every table that refers to alerts.
    op.add_column("alerts", sa.Column("not_actionable", sa.Boolean, nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("alerts", "not_actionable")  # SQLite 3.35+ drops a column in place
    op.drop_index("ix_shift_surveys_due", table_name="shift_surveys")
    op.drop_table("shift_surveys")
    for name in ("ix_action_items_owner", "ix_action_items_open", "ix_action_items_incident"):
        op.drop_index(name, table_name="action_items")
    op.drop_table("action_items")
    op.drop_index("ix_postmortems_status", table_name="postmortems")
    op.drop_table("postmortems")
