"""A reaction in an incident's channel pins that message to the incident's timeline.

Slack's Events API sends `reaction_added` with the channel and the message's
`ts`; when the emoji is `notifications.slack.pin_emoji` (default
`pushpin`) and the channel is an incident's, Tocsin reads the message's
text back through `conversations.history` and adds it as a note by the
person who reacted, at the time the message was posted. The same message
pinned again (another reaction, a Slack retry) stays one entry: the note
is keyed by the message's `ts`. Other messages in incident channels are
not stored. Slack wants the event answered within 3 seconds, so the work
runs after the answer.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from tocsin.config.model import Config, SlackProvider
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import TocsinError
from tocsin.incidents import rules, service
from tocsin.incidents.commands import plain_text
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.notify.slack_incidents import IncidentSlack
from tocsin.web.slack_incidents import named_mentions

logger = logging.getLogger(__name__)

SURFACE = "slack"
SOURCE = "slack_pin"
_TS = re.compile(r"\d{1,12}\.\d{1,8}")
_ID = re.compile(r"[A-Z0-9]{2,40}")


@dataclass(frozen=True)
class Pin:
    channel: str
    ts: str
    slack_user: str


def read_pin(provider: SlackProvider, body: bytes) -> Pin | None:
    """The pin an Events API body asks for; None for any other event."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None
    inner = data.get("event") if isinstance(data, dict) else None
    if not isinstance(inner, dict) or inner.get("type") != "reaction_added":
        return None
    item = inner.get("item")
    if not isinstance(item, dict) or item.get("type") != "message":
        return None
    if inner.get("reaction") != provider.pin_emoji.strip(":"):
        return None
    channel, ts, user = item.get("channel"), item.get("ts"), inner.get("user")
    if not (isinstance(channel, str) and _ID.fullmatch(channel) and isinstance(ts, str)
            and _TS.fullmatch(ts) and isinstance(user, str) and _ID.fullmatch(user)):
        event(logger, "slack.pin_unreadable", logging.WARNING)
        return None
    return Pin(channel=channel, ts=ts, slack_user=user)


def pin(runtime: Runtime, config: Config, provider: SlackProvider, found: Pin) -> None:
    """Add the message to the timeline; run after Slack has its answer."""
    user = config.user_by_contact("slack", found.slack_user)
    with runtime.sessions() as session:
        key = session.scalars(select(Incident.id).where(
            Incident.slack_channel_id == found.channel).limit(1)).first()
    if key is None or user is None:
        event(logger, "slack.pin_ignored", channel=found.channel, slack_user=found.slack_user,
              reason="not an incident channel" if key is None else "unknown Slack user")
        return
    outcome, text = IncidentSlack(provider).message_text(found.channel, found.ts)
    if text is None:
        event(logger, "slack.pin_unreadable", logging.WARNING, channel=found.channel,
              ts=found.ts, detail=outcome.detail)
        return
    now = runtime.clock.now()
    said = min(datetime.fromtimestamp(float(found.ts), UTC), now)
    body = (plain_text(named_mentions(config, text)).strip()[: rules.MAX_TEXT]
            or f"(a message with no text, {found.ts})")
    try:
        with transaction(runtime.sessions) as session:
            entry = service.add_note(session, config=config, key=f"INC-{key}", text=body,
                                     actor=user.id, surface=SURFACE, now=now, occurred_at=said,
                                     source=SOURCE, slack_ts=found.ts)
    except TocsinError as exc:
        event(logger, "slack.pin_refused", incident=f"INC-{key}", ts=found.ts, reason=exc.code)
        return
    event(logger, "slack.message_pinned", incident=f"INC-{key}", entry=entry.id, ts=found.ts,
          actor=user.id)
