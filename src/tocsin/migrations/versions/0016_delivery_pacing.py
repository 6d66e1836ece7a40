"""delivery pacing: when a page first became due, its hard failover, its contact's window,
and why a bundle's pages went together (a storm or a rate limit)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The pages not delivered yet whose hard failover has not happened (notify.store).
_WATCHED = sa.text("failed_over_at IS NULL "
                   "AND status IN ('queued', 'sending', 'held', 'bundled')")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_over_at", sa.DateTime(timezone=True),
                                      nullable=True))

    # A page tried before this revision first became due at its first attempt.
    op.execute(
        "UPDATE deliveries SET first_due_at = COALESCE("
        "(SELECT MIN(delivery_attempts.at) FROM delivery_attempts "
        "WHERE delivery_attempts.delivery_id = deliveries.id), due_at)"
    )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_failover", ["first_due_at"], unique=False,
                              sqlite_where=_WATCHED, postgresql_where=_WATCHED)
        batch_op.create_index("ix_deliveries_contact", ["channel", "address", "finished_at"],
                              unique=False)

    with op.batch_alter_table("storm_bundles", schema=None) as batch_op:
        batch_op.create_index("ix_storm_bundles_contact", ["channel", "address", "finished_at"],
                              unique=False)
        # Bundles from before were all a storm's.
        batch_op.add_column(sa.Column("reason", sa.String(length=20), nullable=False,
                                      server_default="storm"))


def downgrade() -> None:
    with op.batch_alter_table("storm_bundles", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_index("ix_storm_bundles_contact")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_contact")
        batch_op.drop_index("ix_deliveries_failover")
        batch_op.drop_column("failed_over_at")
        batch_op.drop_column("first_due_at")
