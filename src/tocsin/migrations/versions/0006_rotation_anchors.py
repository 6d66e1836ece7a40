"""rotation anchors

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:47:02.149231
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rotation_anchors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=False),
        sa.Column("layer", sa.String(length=200), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("anchor_date", sa.Date(), nullable=True),
        sa.Column("first_participant", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotation_anchors")),
    )
    with op.batch_alter_table("rotation_anchors", schema=None) as batch_op:
        batch_op.create_index("ix_rotation_anchors_layer", ["schedule", "layer"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rotation_anchors", schema=None) as batch_op:
        batch_op.drop_index("ix_rotation_anchors_layer")

    op.drop_table("rotation_anchors")
