"""flapping alert keys: recent changes per key, and a flag on alerts

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_key_changes",
        sa.Column("integration", sa.String(length=200), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration", "dedup_key", name=op.f("pk_alert_key_changes")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("flapping", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("flapping")
    op.drop_table("alert_key_changes")
