"""delivery chain: which policy's step queued a page (None: the alert's own)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild of `deliveries` on SQLite would drop the table,
    # its attempts (ON DELETE CASCADE) and the report's triggers on it (0027). Pages
    # queued before are the alert's own policy's, as they were always taken to be.
    op.add_column("deliveries", sa.Column("chain", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "chain")  # SQLite 3.35+ drops it in place
