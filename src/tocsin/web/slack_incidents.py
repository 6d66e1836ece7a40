"""`/incident` and `/page` typed in Slack, acting as the Tocsin user who typed them.

The Slack user is the person whose `contacts.slack` is their Slack id
(`Config.user_by_contact`); anyone else is told how to link their account.
Inside an incident's channel the incident is implied; elsewhere it is
named (`/incident note INC-142 ...`). Each command runs the incident
services with surface "slack" in one transaction (audit row and timeline
entry are theirs), then wakes the engine so the channel work goes out.

A mistake is answered as an ephemeral message (only the typist sees it);
a change is answered in the channel, so the room sees who did what, except a
change to a private incident: every reply about one is ephemeral.
`/incident update` is the exception: the update itself is posted to the
incident's channel by the Slack worker, so its answer is a private note.
`/incident statuspage STATUS TEXT` writes a public status page update
(`web.statuspage_writes`); the room is told, since customers now read it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import direct
from tocsin.alerts import replay_store as replays
from tocsin.config.model import Config, User
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import TocsinError
from tocsin.incidents import commands as parsed
from tocsin.incidents import paging, service
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.notify.slack import escape
from tocsin.web import statuspage_writes

logger = logging.getLogger(__name__)

SURFACE = "slack"
INCIDENT = "/incident"
PAGE = "/page"
COMMANDS = (INCIDENT, PAGE)
_BARE_MENTION = re.compile(r"<@([A-Z0-9]{2,40})>")


@dataclass(frozen=True)
class Reply:
    text: str
    in_channel: bool = False

    def body(self) -> dict[str, Any]:
        return {"response_type": "in_channel" if self.in_channel else "ephemeral",
                "text": self.text}


def answer(runtime: Runtime, config: Config, form: dict[str, str],
           replay_key: str | None = None) -> Reply:
    """The reply to `/incident ...` or `/page ...`; never raises for a person's mistake.

    `replay_key` (the request's signature) makes a repeated request act once:
    the copy gets the first one's reply and changes nothing.
    """
    command = form.get("command", "").strip().lower()
    text, slack_user = named_mentions(config, form.get("text", "")), form.get("user_id", "")
    if command == PAGE:
        found: parsed.PageCommand | parsed.IncidentCommand | parsed.Usage = parsed.parse_page(text)
    else:
        found = parsed.parse_incident(text, severities=tuple(s.name for s in config.severities))
    if isinstance(found, parsed.Usage):
        return Reply(found.message)
    if isinstance(found, parsed.Help):
        slack = config.notifications.slack
        return Reply(parsed.help_text(tuple(s.name for s in config.severities),
                                      slack.pin_emoji if slack is not None else "pushpin"))
    user = config.user_by_contact("slack", slack_user) if slack_user else None
    if user is None:
        shown = escape(slack_user[:40]) or "unknown"
        return Reply(f"Your Slack account ({shown}) is not linked to a Tocsin user. Add "
                     f"`contacts: {{slack: {shown}}}` to your user in the Tocsin config and "
                     "reload it, then try again.")
    try:
        with transaction(runtime.sessions) as session:
            if replay_key is not None and not replays.claim(
                    session, source=replays.SLACK, key=f"command:{replay_key}",
                    now=runtime.clock.now()):
                first = replays.first_reply(session, source=replays.SLACK,
                                            key=f"command:{replay_key}")
                return Reply(first or "This command was answered already; nothing changed.")
            reply = _act(session, runtime, config, user, found, form.get("channel_id", ""))
            if replay_key is not None:
                replays.remember_reply(session, source=replays.SLACK,
                                       key=f"command:{replay_key}", reply=reply.text)
    except TocsinError as exc:
        event(logger, "slack.incident_command_refused", slack_user=slack_user[:40],
              command=command[:20], reason=exc.code)
        return Reply(_refusal(exc))
    except Exception:
        # Slack shows the typist a bare "failed with the error 500"; say what is known.
        logger.exception("slack.incident_command_failed", extra={"command": command[:20]})
        return Reply("Tocsin failed while doing this and changed nothing; the server log "
                     "(slack.incident_command_failed) has the details.")
    runtime.engine.wake()
    return reply


def named_mentions(config: Config, text: str) -> str:
    """Label Slack's bare `<@U0123>` mentions with the linked user's name, for plain text."""
    def label(found: re.Match[str]) -> str:
        user = config.user_by_contact("slack", found.group(1))
        return f"<@{found.group(1)}|{user.display}>" if user is not None else found.group(0)
    return _BARE_MENTION.sub(label, text)


def _refusal(exc: TocsinError) -> str:
    fixes = "".join(f"; {escape(f.path)}: {escape(f.message)}" for f in exc.fields)
    return f"Nothing was changed: {escape(exc.message)}{fixes}."


def _act(session: Session, runtime: Runtime, config: Config, user: User,
         found: parsed.PageCommand | parsed.IncidentCommand, channel: str) -> Reply:
    now = runtime.clock.now()
    who: dict[str, Any] = {"config": config, "actor": user.id, "surface": SURFACE, "now": now}
    if isinstance(found, parsed.PageCommand):
        target = paging.named_target(config, _person(found.target, user))
        alert = direct.page(session, target=target, title=found.message, actor=user.id,
                            surface=SURFACE, now=now)
        return Reply(f"{_name(user)} paged {escape(target.name)}: {escape(found.message)} "
                     f"(alert #{alert.id})", in_channel=True)
    if isinstance(found, parsed.Create):
        incident = service.declare(session, title=found.title, severity=found.severity,
                                   private=found.private, services=found.services, **who)
        return Reply(_declared(config, incident, user), in_channel=not incident.private)
    assert not isinstance(found, parsed.Help)
    key = found.incident or _in_channel(session, channel)
    if key is None:
        return Reply("This channel is not an incident's. " + parsed.ELSEWHERE)
    reply = _on_incident(session, config, user, found, key, who)
    if service.get(session, key, admin=True).private:
        return Reply(reply.text)  # a private incident is never told to the room
    return reply


def _on_incident(session: Session, config: Config, user: User, found: parsed.OnIncident,
                 key: str, who: dict[str, Any]) -> Reply:
    by = _name(user)
    if isinstance(found, parsed.AssignRole):
        assigned = service.assign_role(session, key=key, role=found.role,
                                       user=_person(found.person, user), **who)
        return Reply(f"{_mention(config, assigned.user)} is now {escape(assigned.role)} of "
                     f"{key}: {escape(assigned.duty)} (set by {by})", in_channel=True)
    if isinstance(found, parsed.SetStatus):
        incident = service.set_status(session, key=key, status=found.status, note=found.note,
                                      **who)
        return Reply(f"{key} is now *{incident.status}* (set by {by})", in_channel=True)
    if isinstance(found, parsed.SetSeverity):
        incident = service.set_severity(session, key=key, severity=found.severity, **who)
        return Reply(f"{key} is now *{incident.severity}* (set by {by})", in_channel=True)
    if isinstance(found, parsed.Mitigated):
        service.mark_mitigated(session, key=key, **who)
        return Reply(f"{key} is mitigated (marked by {by})", in_channel=True)
    if isinstance(found, parsed.Note):
        service.add_note(session, key=key, text=found.text, source="slack", **who)
        return Reply(f"Noted on the {key} timeline by {by}: {escape(found.text)}",
                     in_channel=True)
    if isinstance(found, parsed.Update):
        service.post_update(session, key=key, text=found.text, **who)
        return Reply(f"Your update to {key} is being posted to its channel and stakeholders.")
    if isinstance(found, parsed.StatusPage):
        return _status_page(session, config, user, found, key, who)
    if isinstance(found, parsed.Impact):
        service.set_impact(session, key=key, summary=found.text, **who)
        return Reply(f"{key} customer-facing summary set by {by}: {escape(found.text)}",
                     in_channel=True)
    service.add_responder(session, key=key, target=_person(found.target, user), **who)
    return Reply(f"{by} added {escape(found.target.name)} to {key}: they are being paged",
                 in_channel=True)


def _status_page(session: Session, config: Config, user: User, found: parsed.StatusPage,
                 key: str, who: dict[str, Any]) -> Reply:
    incident = service.get(session, key, viewer=user.id)
    done = statuspage_writes.publish(session, incident=incident, status=found.status,
                                     body=found.text, name=found.title, **who)
    made = " (its public page is new)" if done.created else ""
    return Reply(f"{_name(user)} posted to the status page for {key}{made}: "
                 f"*{escape(found.status)}*: {escape(found.text)}", in_channel=True)


def _declared(config: Config, incident: Incident, user: User) -> str:
    channel = (f" Its channel #{escape(incident.slack_channel_name)} is being created."
               if incident.slack_channel_name and config.notifications.slack else "")
    commander = _mention(config, incident.commander or user.id)
    private = " private" if incident.private else ""
    return (f"{_name(user)} declared{private} *{incident.key}* ({escape(incident.severity)}): "
            f"{escape(incident.title)}. Commander: {commander}.{channel}")


def _in_channel(session: Session, channel: str) -> str | None:
    if not channel:
        return None
    found = session.scalars(select(Incident).where(Incident.slack_channel_id == channel)
                            .order_by(Incident.id.desc()).limit(1)).first()
    return found.key if found is not None else None


def _person(mention: parsed.Mention, me: User) -> str:
    """What the services resolve a person or target from: a Slack id, or the name typed."""
    if mention.slack_id is not None:
        return mention.slack_id
    return me.id if mention.name.lower() == "me" else mention.name


def _name(user: User) -> str:
    slack = user.contacts.get("slack")
    return f"<@{slack}>" if slack and slack.isalnum() else escape(user.display)


def _mention(config: Config, user_id: str) -> str:
    user = config.users.get(user_id)
    return _name(user) if user is not None else escape(user_id)
