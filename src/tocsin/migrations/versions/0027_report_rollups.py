"""report rollups: per-day alert figures and first pages, and the triggers that forget them

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# The alert columns `metrics.queries.alert_figures` reads.
ALERT_COLUMNS = ("triggered_at", "step", "pass_number", "status", "resolved_at",
                 "resolved_by", "not_actionable", "first_acknowledged_at")
# The delivery columns `metrics.queries.first_pages` reads.
DELIVERY_COLUMNS = ("status", "finished_at", "user_id", "alert_id")
TRIGGERS = {"alerts": ("report_alerts_written", "report_alerts_changed"),
            "deliveries": ("report_deliveries_written", "report_deliveries_changed")}


def upgrade() -> None:
    op.create_table(
        "report_alert_days",
        sa.Column("day", sa.Date(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (
            "total", "paged", "escalated", "marked", "sourced", "acked", "sourced_acked")),
        sa.Column("ack_sum", sa.Float(), nullable=False),
        sa.Column("ack_seconds", sa.LargeBinary(), nullable=False),
    )
    op.create_table("report_page_days", sa.Column("day", sa.Date(), primary_key=True))
    op.create_table(
        "report_first_pages",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("user_id", sa.String(320), primary_key=True),
        sa.Column("seconds", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "report_repeat_pages",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("user_id", sa.String(320), primary_key=True),
        sa.Column("alert_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("previous", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()


def _changed(columns: tuple[str, ...], same: str) -> str:
    return " OR ".join(f"OLD.{name} {same} NEW.{name}" for name in columns)


# What the alert figures read of step, pass and status: whether it paged, escalated and
# is resolved. An escalation past step 1 or an acknowledgement changes none of them, so
# the engine's hot path does not run the trigger.
ALERT_FLAGS = ("{row}.step >= 0", "({row}.step >= 1 OR {row}.pass_number >= 1)",
               "{row}.status = 'resolved'")
ALERT_VALUES = ("triggered_at", "resolved_at", "resolved_by", "not_actionable",
                "first_acknowledged_at")


def _alert_changed(same: str) -> str:
    flags = [f"({flag.format(row='OLD')}) {same} ({flag.format(row='NEW')})"
             for flag in ALERT_FLAGS]
    return " OR ".join([*flags, _changed(ALERT_VALUES, same)])


def _sqlite_triggers() -> None:
    """SQLite keeps UTC as text `YYYY-MM-DD HH:MM:SS.ffffff`: its first ten characters
    are the UTC day, as the Date columns store it (`date()` would round the time to the
    millisecond first, moving 23:59:59.9996 to the next day)."""
    alert_day = "DELETE FROM report_alert_days WHERE day = substr({row}.triggered_at, 1, 10);"
    # A page changes its own day, and the days of that alert's later pages to that person
    # (whether each is their first ever and what page came before it).
    page_days = (
        "DELETE FROM report_page_days WHERE {row}.status = 'sent' AND ("
        "day = substr({row}.finished_at, 1, 10) OR day IN ("
        "SELECT substr(d.finished_at, 1, 10) FROM deliveries d"
        " WHERE d.alert_id = {row}.alert_id AND d.status = 'sent'"
        " AND d.user_id = {row}.user_id AND d.finished_at > {row}.finished_at));")
    alert_days = ("DELETE FROM report_alert_days WHERE day IN ("
                  "substr(OLD.triggered_at, 1, 10), substr(NEW.triggered_at, 1, 10));")
    # A row of a day after the last one rolled up touches no rollup: today's alerts and
    # pages, which the engine writes, skip the deleting (one index seek for the latest).
    alert_kept = ("substr({row}.triggered_at, 1, 10) <= "
                  "(SELECT max(day) FROM report_alert_days)")
    page_kept = ("substr({row}.finished_at, 1, 10) <= "
                 "(SELECT max(day) FROM report_page_days)")
    statements = [
        f"CREATE TRIGGER report_alerts_written AFTER INSERT ON alerts "
        f"WHEN {alert_kept.format(row='NEW')} BEGIN {alert_day.format(row='NEW')} END",
        f"CREATE TRIGGER report_alerts_deleted AFTER DELETE ON alerts "
        f"WHEN {alert_kept.format(row='OLD')} BEGIN {alert_day.format(row='OLD')} END",
        f"CREATE TRIGGER report_alerts_changed AFTER UPDATE OF {', '.join(ALERT_COLUMNS)} "
        f"ON alerts WHEN ({_alert_changed('IS NOT')}) "
        f"AND ({alert_kept.format(row='OLD')} OR {alert_kept.format(row='NEW')}) "
        f"BEGIN {alert_days} END",
        f"CREATE TRIGGER report_deliveries_written AFTER INSERT ON deliveries "
        f"WHEN NEW.status = 'sent' AND {page_kept.format(row='NEW')} "
        f"BEGIN {page_days.format(row='NEW')} END",
        f"CREATE TRIGGER report_deliveries_deleted AFTER DELETE ON deliveries "
        f"WHEN OLD.status = 'sent' AND {page_kept.format(row='OLD')} "
        f"BEGIN {page_days.format(row='OLD')} END",
        f"CREATE TRIGGER report_deliveries_changed AFTER UPDATE OF "
        f"{', '.join(DELIVERY_COLUMNS)} ON deliveries "
        f"WHEN (OLD.status = 'sent' OR NEW.status = 'sent') "
        f"AND ({_changed(DELIVERY_COLUMNS, 'IS NOT')}) "
        f"AND ({page_kept.format(row='OLD')} OR {page_kept.format(row='NEW')}) "
        f"BEGIN {page_days.format(row='OLD')} {page_days.format(row='NEW')} END",
    ]
    for statement in statements:
        op.execute(sa.text(statement))


def _postgresql_triggers() -> None:
    # As on SQLite: a row of a day after the last one rolled up touches no rollup.
    alert_day = ("IF ({row}.triggered_at AT TIME ZONE 'UTC')::date <= "
                 "(SELECT max(day) FROM report_alert_days) THEN DELETE FROM report_alert_days"
                 " WHERE day = ({row}.triggered_at AT TIME ZONE 'UTC')::date; END IF;")
    page_days = (
        "IF {row}.status = 'sent' AND ({row}.finished_at AT TIME ZONE 'UTC')::date <= "
        "(SELECT max(day) FROM report_page_days) THEN DELETE FROM report_page_days"
        " WHERE day = ({row}.finished_at AT TIME ZONE 'UTC')::date"
        " OR day IN (SELECT (d.finished_at AT TIME ZONE 'UTC')::date FROM deliveries d"
        " WHERE d.alert_id = {row}.alert_id AND d.status = 'sent'"
        " AND d.user_id = {row}.user_id AND d.finished_at > {row}.finished_at); END IF;")
    functions = {
        "report_forget_alert_days": alert_day,
        "report_forget_page_days": page_days,
    }
    for name, body in functions.items():
        op.execute(sa.text(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {body.format(row='OLD')} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {body.format(row='NEW')} END IF; "
            f"RETURN NULL; END $$"))
    for table, columns, function, when in (
            ("alerts", ALERT_COLUMNS, "report_forget_alert_days",
             _alert_changed("IS DISTINCT FROM")),
            ("deliveries", DELIVERY_COLUMNS, "report_forget_page_days",
             f"(OLD.status = 'sent' OR NEW.status = 'sent') "
             f"AND ({_changed(DELIVERY_COLUMNS, 'IS DISTINCT FROM')})")):
        written, changed = TRIGGERS[table]
        op.execute(sa.text(
            f"CREATE TRIGGER {written} AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"))
        op.execute(sa.text(
            f"CREATE TRIGGER {changed} AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN ({when}) "
            f"EXECUTE FUNCTION {function}()"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("report_alerts_written", "report_alerts_deleted", "report_alerts_changed",
                     "report_deliveries_written", "report_deliveries_deleted",
                     "report_deliveries_changed"):
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        for table, names in TRIGGERS.items():
            for name in names:
                op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        op.execute(sa.text("DROP FUNCTION IF EXISTS report_forget_alert_days()"))
        op.execute(sa.text("DROP FUNCTION IF EXISTS report_forget_page_days()"))
    for table in ("report_repeat_pages", "report_first_pages", "report_page_days",
                  "report_alert_days"):
        op.drop_table(table)
