"""action items: reminder and digest notices, tracker pushes, the last tracker error

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _leased() -> list[sa.Column[object]]:
    """The columns every leased outbox row has."""
    return [
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "action_item_notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(600), nullable=False, unique=True),
        sa.Column("item_id", sa.Integer,
                  sa.ForeignKey("action_items.id", ondelete="CASCADE"), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("user_id", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        *_leased(),
    )
    op.create_index("ix_action_item_notices_due", "action_item_notices", ["status", "due_at"])
    op.create_index("ix_action_item_notices_item", "action_item_notices", ["item_id", "slot"])
    op.create_table(
        "action_item_pushes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer,
                  sa.ForeignKey("action_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tracker", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        *_leased(),
    )
    op.create_index("ix_action_item_pushes_due", "action_item_pushes", ["status", "due_at"])
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("tracker_error", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.drop_column("tracker_error")
    op.drop_index("ix_action_item_pushes_due", table_name="action_item_pushes")
    op.drop_table("action_item_pushes")
    op.drop_index("ix_action_item_notices_item", table_name="action_item_notices")
    op.drop_index("ix_action_item_notices_due", table_name="action_item_notices")
    op.drop_table("action_item_notices")
