"""placeholder: replaced by the change that needs revision 0017

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 01:00:00
"""

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
