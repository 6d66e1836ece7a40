"""What each kind of incident Slack task sends, and what a sent one leaves behind.

`job_for` reads the incident as it is when the task is sent (the topic
shows the severity, status and commander of now, not of when the task was
written) and gives a `Job` whose `run` makes the Slack calls with no
database session open. `after` records a success: the new channel on the
incident and its timeline, and the next update reminder while none is
due. The incident services queue the topic and the invites beside the
channel; the topic is rebuilt from the incident when sent, whatever the
task's payload says, so topics sent out of order still end current.

Task payloads hold plain text as people typed it; Slack's control characters
(&, <, >) are escaped here, when it is sent, so a title or an update that reads
`<!channel>` is shown, never acted on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.config.incidents import render_channel_name
from tocsin.config.model import Config
from tocsin.incidents import records, severities, slack_tasks, store
from tocsin.logs import event
from tocsin.notify.base import DeliveryOutcome
from tocsin.notify.slack import escape
from tocsin.notify.slack_incidents import IncidentSlack, mention

log = logging.getLogger(__name__)

SURFACE = "slack"
ACTOR = "tocsin"
CHANNEL_ENTRY = "slack_channel"  # the timeline entry of a channel made


def client_for(config: Config) -> IncidentSlack | None:
    provider = config.notifications.slack
    return IncidentSlack(provider) if provider is not None else None


class Job(Protocol):
    def run(self, client: IncidentSlack) -> Sent: ...


@dataclass(frozen=True)
class Sent:
    outcome: DeliveryOutcome
    channel: tuple[str, str] | None = None  # (id, name) of a channel just made
    skip: str | None = None  # why nothing needed sending, or who was left out


@dataclass(frozen=True)
class Done:
    """Nothing to send; why."""

    why: str

    def run(self, client: IncidentSlack) -> Sent:
        return Sent(DeliveryOutcome(ok=True, detail=self.why), skip=self.why)


@dataclass(frozen=True)
class Refused:
    """The task can never be sent; why (it is marked failed at once)."""

    why: str

    def run(self, client: IncidentSlack) -> Sent:
        return Sent(DeliveryOutcome(ok=False, detail=self.why))


@dataclass(frozen=True)
class CreateChannel:
    name: str
    private: bool

    def run(self, client: IncidentSlack) -> Sent:
        made = client.create_channel(self.name, private=self.private)
        channel = (made.channel.id, made.channel.name) if made.channel else None
        return Sent(made.outcome, channel=channel)


@dataclass(frozen=True)
class SetTopic:
    channel: str
    topic: str

    def run(self, client: IncidentSlack) -> Sent:
        return Sent(client.set_topic(self.channel, self.topic))


@dataclass(frozen=True)
class Invite:
    channel: str
    slack_ids: tuple[str, ...]
    without_slack: tuple[str, ...] = ()

    def run(self, client: IncidentSlack) -> Sent:
        skipped = [f"{user} (no contacts.slack)" for user in self.without_slack]
        if self.slack_ids:
            invited = client.invite(self.channel, self.slack_ids)
            if not invited.outcome.ok:
                return Sent(invited.outcome)
            skipped += invited.skipped
        why = f"not invited: {', '.join(skipped)}" if skipped else None
        return Sent(DeliveryOutcome(ok=True, detail="invited"), skip=why)


@dataclass(frozen=True)
class Post:
    channel: str
    text: str
    join_first: bool = False  # a stakeholder channel the bot may not be in yet
    direct: tuple[str, ...] = field(default=())  # Slack users also sent `direct_text` by DM
    direct_text: str = ""

    def run(self, client: IncidentSlack) -> Sent:
        outcome = client.post(self.channel, self.text)
        if not outcome.ok and self.join_first and outcome.detail.endswith(": not_in_channel"):
            joined = client.join(self.channel)
            outcome = client.post(self.channel, self.text) if joined.ok else joined
        for user in self.direct:
            if outcome.ok:
                outcome = client.post(user, self.direct_text or self.text)
        return Sent(outcome)


def job_for(session: Session, config: Config, kind: str, payload: dict[str, object],
            incident: store.Incident, *, now: datetime) -> Job:
    channel = incident.slack_channel_id
    if kind == store.CREATE_CHANNEL:
        if channel is not None:
            return Done(f"the incident has its channel already ({channel})")
        return CreateChannel(_channel_name(config, payload, incident), bool(incident.private))
    if kind == store.POST_CHANNEL:
        target = payload.get("channel")
        if not isinstance(target, str) or not target:
            return Refused("the task names no channel")
        return Post(target, escape(str(payload.get("text") or "")), join_first=True)
    if channel is None:
        return Refused("the incident has no Slack channel (its creation failed)")
    if kind == store.SET_TOPIC:
        return SetTopic(channel, topic(config, incident))
    if kind == store.INVITE:
        users = payload.get("users")
        wanted = [u for u in users if isinstance(u, str)] if isinstance(users, list) else []
        return _invite(config, channel, wanted)
    if kind == store.POST:
        return Post(channel, escape(str(payload.get("text") or "")))
    if kind == store.REMIND_UPDATE:
        return _reminder(session, config, incident, channel, now)
    return Refused(f"unknown task kind {kind!r}")


def topic(config: Config, incident: store.Incident) -> str:
    commander = _name(config, incident.commander) if incident.commander else "nobody"
    return escape(f"{incident.severity} | {incident.status.capitalize()} | "
                  f"Commander: {commander} | {incident.key} {incident.title}")


def after(session: Session, config: Config, task: store.SlackTask, incident: store.Incident,
          sent: Sent, *, now: datetime) -> None:
    if task.kind == store.CREATE_CHANNEL and sent.channel is not None:
        incident.slack_channel_id, incident.slack_channel_name = sent.channel
        records.add_entry(session, incident, kind=CHANNEL_ENTRY, actor=ACTOR, surface=SURFACE,
                          now=now, text=f"Slack channel #{sent.channel[1]} created",
                          data={"channel": sent.channel[0], "name": sent.channel[1]})
    elif task.kind == store.REMIND_UPDATE and sent.skip is None and incident.is_open:
        every = _update_every(config, incident)
        if every is not None and not _pending(session, incident.id, store.REMIND_UPDATE):
            slack_tasks.queue(session, incident=incident, kind=store.REMIND_UPDATE, payload={},
                              now=now, due_at=now + every)


def _channel_name(config: Config, payload: dict[str, object], incident: store.Incident) -> str:
    named = payload.get("name")
    if isinstance(named, str) and named:
        return named
    declared = incident.declared_at.astimezone(ZoneInfo(config.timezone))
    return render_channel_name(config.incidents.channel_name, number=incident.id,
                               declared_at=declared, severity=incident.severity)


def _invite(config: Config, channel: str, users: Iterable[str]) -> Invite:
    slack_ids: list[str] = []
    without: list[str] = []
    for user_id in users:
        user = config.user_by_email_or_id(user_id)
        slack = user.contacts.get("slack") if user is not None else None
        if slack:
            slack_ids.append(slack)
        elif user is not None:
            without.append(user.id)
    return Invite(channel, tuple(slack_ids), tuple(without))


def _reminder(session: Session, config: Config, incident: store.Incident, channel: str,
              now: datetime) -> Job:
    every = _update_every(config, incident)
    if not incident.is_open or every is None:
        return Done("no reminder needed: the incident is resolved or its severity has none")
    last = incident.last_update_at or incident.declared_at
    if last + every > now + timedelta(seconds=1):
        return Done("an update was posted since this reminder was planned")
    if incident.commander is None:
        event(log, "incident.reminder_unsent", incident=incident.key, reason="no commander")
        return Done("no reminder sent: the incident has no commander yet")
    commander = config.user_by_email_or_id(incident.commander or "")
    slack = commander.contacts.get("slack") if commander is not None else None
    who = mention(slack, commander.display if commander else incident.commander or "Commander")
    minutes = int((now - last).total_seconds() // 60)
    text = (f"{who}: no update on {escape(incident.key)} for {minutes} minutes. "
            "Post one with `/incident update TEXT`; it goes to this channel and the "
            "stakeholders.")
    dm = (f"No update on {escape(incident.key)} (<#{channel}>) for {minutes} minutes: "
          "post one there with `/incident update TEXT`.")
    return Post(channel, text, direct=(slack,) if slack else (), direct_text=dm)


def _update_every(config: Config, incident: store.Incident) -> timedelta | None:
    severity = severities.settings_of(config, incident)
    minutes = severity.update_every_minutes if severity is not None else None
    return timedelta(minutes=minutes) if minutes else None


def _name(config: Config, user_id: str) -> str:
    user = config.user_by_email_or_id(user_id)
    return user.display if user is not None else user_id


def _pending(session: Session, incident_id: int, kind: str) -> bool:
    query = select(store.SlackTask.id).where(store.SlackTask.incident_id == incident_id,
                                             store.SlackTask.kind == kind,
                                             store.SlackTask.status == store.TASK_PENDING)
    return session.scalars(query.limit(1)).first() is not None
