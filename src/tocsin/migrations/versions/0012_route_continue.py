"""routes that continue: further policies escalating beside an alert's own

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL on existing rows: the alert's own policy, which is all there was.
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", sa.String(length=200), nullable=True))
    with op.batch_alter_table("maintenance_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", sa.String(length=200), nullable=True))

    op.create_table(
        "escalation_chains",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=200), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("pass_number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_escalation_chains_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_chains")),
        sa.UniqueConstraint("alert_id", "policy", name="uq_escalation_chains_policy"),
    )


def downgrade() -> None:
    op.drop_table("escalation_chains")
    with op.batch_alter_table("maintenance_holds", schema=None) as batch_op:
        batch_op.drop_column("policy")
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.drop_column("policy")
