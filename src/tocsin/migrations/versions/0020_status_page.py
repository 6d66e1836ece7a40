"""status page: public incidents, their updates, component status history

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("impact", sa.String(length=20), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_incidents")),
    )
    with op.batch_alter_table("status_incidents", schema=None) as batch_op:
        batch_op.create_index("ix_status_incidents_status", ["status"], unique=False)

    op.create_table(
        "status_incident_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status_incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("display_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("surface", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_incident_id"], ["status_incidents.id"],
            name=op.f("fk_status_incident_updates_status_incident_id_status_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_incident_updates")),
    )
    with op.batch_alter_table("status_incident_updates", schema=None) as batch_op:
        batch_op.create_index("ix_status_updates_incident",
                              ["status_incident_id", "display_at"], unique=False)

    op.create_table(
        "status_component_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("component", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["update_id"], ["status_incident_updates.id"],
            name=op.f("fk_status_component_history_update_id_status_incident_updates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_component_history")),
    )
    with op.batch_alter_table("status_component_history", schema=None) as batch_op:
        batch_op.create_index("ix_status_history_component", ["component", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_component_history", schema=None) as batch_op:
        batch_op.drop_index("ix_status_history_component")
    op.drop_table("status_component_history")
    with op.batch_alter_table("status_incident_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_status_updates_incident")
    op.drop_table("status_incident_updates")
    with op.batch_alter_table("status_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_status_incidents_status")
    op.drop_table("status_incidents")
