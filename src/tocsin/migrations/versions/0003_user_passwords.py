"""user passwords

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:49:59.066170
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_passwords",
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("hash", sa.String(length=400), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_passwords")),
    )


def downgrade() -> None:
    op.drop_table("user_passwords")
