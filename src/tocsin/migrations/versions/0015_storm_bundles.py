"""storm bundles, the routes in storm, and the index storm detection counts by

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'queued' AND attempts = 0")


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_triggered_at", ["triggered_at"], unique=False)

    op.create_table(
        "route_storms",
        sa.Column("route", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("route", name=op.f("pk_route_storms")),
    )

    op.create_table(
        "storm_bundles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storm_bundles")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_storm_bundles_idempotency_key")),
    )
    with op.batch_alter_table("storm_bundles", schema=None) as batch_op:
        batch_op.create_index("ix_storm_bundles_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_storm_bundles_user", ["user_id", "channel", "due_at"],
                              unique=False)
        # One open bundle per person and channel, however many engines run.
        batch_op.create_index("uq_storm_bundles_open", ["user_id", "channel"], unique=True,
                              sqlite_where=_OPEN, postgresql_where=_OPEN)

    op.create_table(
        "storm_bundle_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["storm_bundles.id"],
            name=op.f("fk_storm_bundle_items_bundle_id_storm_bundles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"],
            name=op.f("fk_storm_bundle_items_delivery_id_deliveries"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"],
            name=op.f("fk_storm_bundle_items_alert_id_alerts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storm_bundle_items")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_storm_bundle_items_delivery_id")),
    )
    with op.batch_alter_table("storm_bundle_items", schema=None) as batch_op:
        batch_op.create_index("ix_storm_bundle_items_bundle", ["bundle_id"], unique=False)
        batch_op.create_index("ix_storm_bundle_items_alert", ["alert_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("storm_bundle_items", schema=None) as batch_op:
        batch_op.drop_index("ix_storm_bundle_items_alert")
        batch_op.drop_index("ix_storm_bundle_items_bundle")
    op.drop_table("storm_bundle_items")

    with op.batch_alter_table("storm_bundles", schema=None) as batch_op:
        batch_op.drop_index("uq_storm_bundles_open")
        batch_op.drop_index("ix_storm_bundles_user")
        batch_op.drop_index("ix_storm_bundles_due")
    op.drop_table("storm_bundles")

    op.drop_table("route_storms")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_triggered_at")
