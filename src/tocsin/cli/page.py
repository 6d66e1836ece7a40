"""`tocsin page TARGET MESSAGE` and the alert actions `snooze`, `unack`, `escalate`,
`reassign` and `add-responder`, through the same services as the API."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from tocsin.alerts import actions, direct
from tocsin.alerts.store import Alert
from tocsin.cli.common import (
    ActorOption,
    ConfigOption,
    DbOption,
    actor_name,
    db_url,
    fail,
    load,
    open_database,
)
from tocsin.config.model import Config, Target
from tocsin.db import transaction
from tocsin.errors import TocsinError

UserOpt = Annotated[str | None, typer.Option("--user", help="A user id or e-mail")]
ScheduleOpt = Annotated[str | None, typer.Option("--schedule", help="A schedule name")]
PolicyOpt = Annotated[str | None, typer.Option("--policy", help="An escalation policy")]


def _now() -> datetime:
    return datetime.now(UTC)


def _run(config: str | None, db: str | None,
         act: Callable[[Session, Config], Alert]) -> Alert:
    loaded = load(config)
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            alert = act(session, loaded)
            session.flush()
            session.expunge(alert)
    except TocsinError as exc:
        fail(exc.message + "".join(f"; {f.path}: {f.message}" for f in exc.fields))
    return alert


def _say(alert: Alert, what: str) -> None:
    sys.stdout.write(f"alert {alert.id}: {alert.status}, {what}\n")


def snooze(alert_id: int, minutes: float, config: ConfigOption = None, db: DbOption = None,
           actor: ActorOption = None) -> None:
    """Acknowledge now; the alert re-triggers at its current step after MINUTES."""
    alert = _run(config, db, lambda s, c: actions.snooze(
        s, config=c, alert_id=alert_id, minutes=minutes, actor=actor_name(actor),
        surface="cli", now=_now()))
    _say(alert, f"snoozed for {minutes:g} min")


def unack(alert_id: int, config: ConfigOption = None, db: DbOption = None,
          actor: ActorOption = None) -> None:
    """Un-acknowledge: back to triggered; the escalation resumes at its current step."""
    alert = _run(config, db, lambda s, c: actions.unacknowledge(
        s, config=c, alert_id=alert_id, actor=actor_name(actor), surface="cli", now=_now()))
    _say(alert, f"escalation at step {alert.step + 1}")


def escalate(alert_id: int, config: ConfigOption = None, db: DbOption = None,
             actor: ActorOption = None) -> None:
    """Page the next escalation step now."""
    alert = _run(config, db, lambda s, c: actions.escalate_now(
        s, config=c, alert_id=alert_id, actor=actor_name(actor), surface="cli", now=_now()))
    _say(alert, f"escalated to step {alert.step + 1}")


def _target(config: Config, user: str | None, schedule: str | None,
            policy: str | None) -> Target:
    return actions.target_of(config, user=user, schedule=schedule, escalation_policy=policy)


def reassign(alert_id: int, user: UserOpt = None, schedule: ScheduleOpt = None,
             policy: PolicyOpt = None, config: ConfigOption = None, db: DbOption = None,
             actor: ActorOption = None) -> None:
    """Restart the alert's escalation at step 1 with a user, schedule or policy."""
    alert = _run(config, db, lambda s, c: actions.reassign(
        s, config=c, alert_id=alert_id, target=_target(c, user, schedule, policy),
        actor=actor_name(actor), surface="cli", now=_now()))
    _say(alert, f"reassigned to {alert.policy}")


def add_responder(alert_id: int, user: UserOpt = None, schedule: ScheduleOpt = None,
                  policy: PolicyOpt = None, config: ConfigOption = None,
                  db: DbOption = None, actor: ActorOption = None) -> None:
    """Page a user, schedule or policy for this alert too."""
    alert = _run(config, db, lambda s, c: actions.add_responder(
        s, config=c, alert_id=alert_id, target=_target(c, user, schedule, policy),
        actor=actor_name(actor), surface="cli", now=_now()))
    _say(alert, "responder added")


def named_target(config: Config, name: str) -> Target:
    """What a bare name means: a user (id or e-mail), a schedule or a policy."""
    if name in config.users or any(u.email == name for u in config.users.values()):
        return actions.target_of(config, user=name)
    if name in config.schedules:
        return actions.target_of(config, schedule=name)
    if name in config.escalation_policies and not name.startswith("implicit:"):
        return actions.target_of(config, escalation_policy=name)
    fail(f"{name!r} is not a user, schedule or escalation policy in the config; "
         "fix: use a name defined there", code=1)


def page(
    target: Annotated[str, typer.Argument(help="A user, schedule or escalation policy")],
    message: Annotated[str, typer.Argument(help="What is wrong, in one line")],
    description: Annotated[str | None, typer.Option(help="More detail")] = None,
    urgency: Annotated[str, typer.Option(help="high or low")] = "high",
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
) -> None:
    """Page a user, schedule or policy directly: a normal alert with its escalation.

    The page goes out from the running server's engine once this is committed.
    """
    alert = _run(config, db, lambda s, c: direct.page(
        s, target=named_target(c, target), title=message, description=description,
        urgency=urgency, actor=actor_name(actor), surface="cli", now=_now()))
    _say(alert, f"paging {alert.policy}")
