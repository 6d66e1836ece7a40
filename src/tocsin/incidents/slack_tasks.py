"""Writing Slack work for an incident: rows the Slack worker sends after commit.

Each row is written in the same transaction as the change that caused it.
The worker sends one incident's rows in id order, so `create_channel`
comes first and later posts find the channel.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.incidents.store import (
    CREATE_CHANNEL,
    INVITE,
    POST,
    POST_CHANNEL,
    REMIND_UPDATE,
    SET_TOPIC,
    TASK_DONE,
    TASK_PENDING,
    Incident,
    SlackTask,
)

CANCELLED_NOTE = "cancelled: no longer needed"


def enabled(config: Config) -> bool:
    """Slack work is written only when a Slack provider could send it."""
    return config.notifications.slack is not None


def queue(
    session: Session, *, incident: Incident, kind: str, payload: dict[str, Any],
    now: datetime, due_at: datetime | None = None,
) -> SlackTask:
    task = SlackTask(incident_id=incident.id, kind=kind, payload=json.dumps(payload),
                     status=TASK_PENDING, attempts=0, due_at=due_at or now, created_at=now)
    session.add(task)
    return task


def open_channel(
    session: Session, *, config: Config, incident: Incident, topic: str,
    users: Sequence[str], now: datetime,
) -> None:
    if not enabled(config):
        return
    queue(session, incident=incident, kind=CREATE_CHANNEL, now=now,
          payload={"name": incident.slack_channel_name, "private": incident.private})
    queue(session, incident=incident, kind=SET_TOPIC, payload={"topic": topic}, now=now)
    invite(session, config=config, incident=incident, users=users, now=now)


def invite(
    session: Session, *, config: Config, incident: Incident, users: Sequence[str],
    now: datetime,
) -> None:
    people = [user for user in dict.fromkeys(users) if user in config.users]
    if enabled(config) and people:
        queue(session, incident=incident, kind=INVITE, payload={"users": people}, now=now)


def post(session: Session, *, config: Config, incident: Incident, text: str,
         now: datetime) -> None:
    if enabled(config):
        queue(session, incident=incident, kind=POST, payload={"text": text}, now=now)


def post_elsewhere(
    session: Session, *, config: Config, incident: Incident, channels: Sequence[str],
    text: str, now: datetime,
) -> int:
    """A post to each stakeholder channel (or a user's Slack id: a direct message)."""
    if not enabled(config):
        return 0
    wanted = list(dict.fromkeys(channels))
    for channel in wanted:
        queue(session, incident=incident, kind=POST_CHANNEL,
              payload={"channel": channel, "text": text}, now=now)
    return len(wanted)


def remind(
    session: Session, *, config: Config, incident: Incident, due_at: datetime | None,
    now: datetime,
) -> None:
    """Replace the pending update reminder with one at `due_at` (None: no reminder)."""
    cancel(session, incident=incident, kind=REMIND_UPDATE, now=now)
    if enabled(config) and due_at is not None:
        queue(session, incident=incident, kind=REMIND_UPDATE, now=now, due_at=due_at,
              payload={"user": incident.commander,
                       "text": f"{incident.key}: no update posted for a while; post one "
                               "with /incident update ..."})


def cancel(session: Session, *, incident: Incident, kind: str, now: datetime) -> int:
    found = list(session.scalars(select(SlackTask).where(
        SlackTask.incident_id == incident.id, SlackTask.kind == kind,
        SlackTask.status == TASK_PENDING)))
    for task in found:
        task.status, task.finished_at, task.error = TASK_DONE, now, CANCELLED_NOTE
    return len(found)


def pending(session: Session, incident_id: int) -> list[SlackTask]:
    return list(session.scalars(select(SlackTask).where(
        SlackTask.incident_id == incident_id, SlackTask.status == TASK_PENDING)
        .order_by(SlackTask.id)))
