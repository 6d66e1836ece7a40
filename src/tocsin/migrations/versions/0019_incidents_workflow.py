"""incidents: roles, timeline, responders, updates, linked alerts, Slack work, notices

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 03:20:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Only added columns, which SQLite alters in place: rebuilding the table would drop
    # its AUTOINCREMENT, and with it the promise that an incident number is never reused.
    with op.batch_alter_table("incidents", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("private", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("services", sa.JSON(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("users_affected", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("root_cause", sa.Text(), nullable=True))
        for name in ("mitigated_at", "status_changed_at", "last_update_at", "updated_at"):
            batch_op.add_column(sa.Column(name, _AT, nullable=True))
        batch_op.add_column(sa.Column("slack_channel_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("slack_channel_name", sa.String(length=80),
                                      nullable=True))
    op.create_index("ix_incidents_slack_channel", "incidents", ["slack_channel_id"],
                    unique=False)
    _incident_table(
        "incident_roles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", _AT, nullable=False),
        sa.Column("assigned_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_roles")),
        sa.UniqueConstraint("incident_id", "role", name="uq_incident_roles_role"),
    )
    _incident_table(
        "incident_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("surface", sa.String(length=40), nullable=True),
        sa.Column("occurred_at", _AT, nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("edited_at", _AT, nullable=True),
        sa.Column("edited_by", sa.String(length=200), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("slack_ts", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_timeline")),
        sa.UniqueConstraint("incident_id", "slack_ts", name="uq_incident_timeline_slack_ts"),
    )
    with op.batch_alter_table("incident_timeline", schema=None) as batch_op:
        batch_op.create_index("ix_incident_timeline_when", ["incident_id", "occurred_at"],
                              unique=False)
    _incident_table(
        "incident_alerts",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("linked_at", _AT, nullable=False),
        sa.Column("linked_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"],
                                name=op.f("fk_incident_alerts_alert_id_alerts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "alert_id", name=op.f("pk_incident_alerts")),
    )
    _incident_table(
        "incident_members",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("added_at", _AT, nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "user_id", name=op.f("pk_incident_members")),
    )
    _incident_table(
        "incident_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=40), nullable=False),
        sa.Column("posted_at", _AT, nullable=False),
        sa.Column("posted_by", sa.String(length=200), nullable=False),
        sa.Column("surface", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_updates")),
    )
    with op.batch_alter_table("incident_updates", schema=None) as batch_op:
        batch_op.create_index("ix_incident_updates_incident", ["incident_id", "posted_at"],
                              unique=False)
    _incident_table(
        "incident_slack_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("lease_until", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_slack_tasks")),
    )
    with op.batch_alter_table("incident_slack_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_incident_slack_tasks_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_incident_slack_tasks_incident", ["incident_id", "status"],
                              unique=False)
    _incident_table(
        "incident_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notices")),
    )
    with op.batch_alter_table("incident_notices", schema=None) as batch_op:
        batch_op.create_index("ix_incident_notices_due", ["status", "due_at"], unique=False)


def _incident_table(name: str, *columns: Any) -> None:
    """A table whose rows belong to one incident and go with it."""
    op.create_table(
        name,
        sa.Column("incident_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f(f"fk_{name}_incident_id_incidents"),
                                ondelete="CASCADE"),
    )


def downgrade() -> None:
    with op.batch_alter_table("incident_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_notices_due")
    op.drop_table("incident_notices")
    with op.batch_alter_table("incident_slack_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_slack_tasks_incident")
        batch_op.drop_index("ix_incident_slack_tasks_due")
    op.drop_table("incident_slack_tasks")
    with op.batch_alter_table("incident_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_updates_incident")
    op.drop_table("incident_updates")
    op.drop_table("incident_members")
    op.drop_table("incident_alerts")
    with op.batch_alter_table("incident_timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_timeline_when")
    op.drop_table("incident_timeline")
    op.drop_table("incident_roles")
    op.drop_index("ix_incidents_slack_channel", table_name="incidents")
    with op.batch_alter_table("incidents", schema=None,
                              table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        for name in ("slack_channel_name", "slack_channel_id", "updated_at", "last_update_at",
                     "status_changed_at", "mitigated_at", "root_cause", "users_affected",
                     "summary", "services", "private"):
            batch_op.drop_column(name)
