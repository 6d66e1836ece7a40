"""A click on a page message in Slack: act as the linked user, then say what happened.

`read_click` turns the interaction payload into a `Click`; `answer` runs the
action through the alert services (surface "slack", so the audit row and the
timeline entry are theirs) and returns an `Answer`: the message rewritten for
the alert's status now, and a note only the clicker sees when nothing could
be done. Slack gets HTTP 200 whatever happened; mistakes are told in Slack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tocsin.alerts import actions, service
from tocsin.alerts import replay_store as replays
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert
from tocsin.config import answer_targets
from tocsin.config.model import Config, Target
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.logs import event
from tocsin.notify.base import Page
from tocsin.notify.slack import (
    ACK_ACTION_ID,
    ESCALATE_ACTION_ID,
    REASSIGN_ACTION_ID,
    RESOLVE_ACTION_ID,
    RESPONDER_ACTION_ID,
    SNOOZE_ACTION_ID,
    SNOOZE_CHOICES,
    UNACK_ACTION_ID,
)
from tocsin.notify.slack_replies import SlackReplies

logger = logging.getLogger(__name__)

SURFACE = "slack"
_OURS = frozenset({ACK_ACTION_ID, RESOLVE_ACTION_ID, SNOOZE_ACTION_ID, ESCALATE_ACTION_ID,
                   UNACK_ACTION_ID, REASSIGN_ACTION_ID, RESPONDER_ACTION_ID})
# The menus whose option names a target, and the kinds each may name.
_TARGET_KINDS = {REASSIGN_ACTION_ID: answer_targets.REASSIGN_KINDS,
                 RESPONDER_ACTION_ID: answer_targets.RESPONDER_KINDS}
_MENUS = frozenset({SNOOZE_ACTION_ID, *_TARGET_KINDS})
_MALFORMED = ("Tocsin could not read this click (the message may be from an older Tocsin); "
              "nothing was changed.")


@dataclass(frozen=True)
class Click:
    slack_user: str
    channel: str | None  # where the message is: the reply and the update go there
    message_ts: str | None
    action_id: str = ""
    alert_id: int = 0
    minutes: int | None = None  # the snooze chosen
    step: int | None = None  # escalate now: the step its message was sent at (older: None)
    target: str | None = None  # reassign, add responder: the chosen target's code (u:bob)
    problem: str | None = None  # why the click cannot be acted on, for the log


@dataclass(frozen=True)
class Answer:
    click: Click
    page: Page | None = None  # the alert as it is now, to rewrite the message with
    note: str = ""  # the status line the rewritten message shows
    tell: str | None = None  # a note only the clicker sees


def read_click(payload: str | None) -> Click | None:
    """The click a `block_actions` payload holds; None when no one could be told anything."""
    try:
        data = json.loads(payload or "")
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        event(logger, "slack.payload_unreadable", logging.WARNING)
        return None
    user = _text(data, "user", "id")
    if user is None:
        event(logger, "slack.payload_unreadable", logging.WARNING, type=_short(data.get("type")))
        return None
    channel = _text(data, "container", "channel_id") or _text(data, "channel", "id")
    click = Click(slack_user=user, channel=channel,
                  message_ts=_text(data, "container", "message_ts"))
    if data.get("type") != "block_actions":
        return Click(click.slack_user, None, None, problem="not a block_actions payload")
    found = data.get("actions")
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        return _malformed(click, "no actions")
    return _read_action(click, found[0])


def _read_action(click: Click, action: dict[str, Any]) -> Click:
    action_id = action.get("action_id")
    if action_id not in _OURS:
        # A link button (a storm bundle's) also reports its click: not ours to act on.
        return Click(click.slack_user, None, None, problem="not a Tocsin action")
    value = action.get("value")
    if action_id in _MENUS:
        value = _text(action, "selected_option", "value")
    alert_text, _, minutes_text = str(value or "").partition(":")
    if not alert_text.isascii() or not alert_text.isdigit() or len(alert_text) > 12:
        return _malformed(click, "no alert id")
    minutes = step = None
    target = None
    if action_id in _TARGET_KINDS:
        if not minutes_text:
            return _malformed(click, "no target chosen")
        target = minutes_text
    if action_id == SNOOZE_ACTION_ID:
        if not minutes_text.isdigit() or int(minutes_text) not in SNOOZE_CHOICES:
            return _malformed(click, "snooze minutes not offered")
        minutes = int(minutes_text)
    if action_id == ESCALATE_ACTION_ID and minutes_text:
        # "42:2" since the step was added; a bare "42" from an older message is still read.
        if not minutes_text.isascii() or not minutes_text.isdigit() or len(minutes_text) > 6:
            return _malformed(click, "escalation step unreadable")
        step = int(minutes_text)
    return Click(click.slack_user, click.channel, click.message_ts, str(action_id),
                 int(alert_text), minutes, step, target)


def _malformed(click: Click, problem: str) -> Click:
    return Click(click.slack_user, click.channel, click.message_ts, problem=problem)


def _text(data: dict[str, Any], outer: str, inner: str) -> str | None:
    found = data.get(outer)
    value = found.get(inner) if isinstance(found, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def _short(value: object) -> str:
    return str(value)[:40]


def answer(runtime: Runtime, config: Config, click: Click,
           replay_key: str | None = None) -> Answer | None:
    """Act on `click` as the Tocsin user linked to its Slack user; None: nothing to say.

    A click already answered under `replay_key` (its request's signature) is
    a repeat: nothing is done and nothing said, as the first copy said it.
    """
    if click.problem is not None:
        # A link button's click or another kind of payload is normal; a broken click is not.
        level = logging.WARNING if click.channel else logging.INFO
        event(logger, "slack.click_ignored", level, slack_user=click.slack_user,
              reason=click.problem)
        return Answer(click, tell=_MALFORMED) if click.channel else None
    linked = config.user_by_contact("slack", click.slack_user)
    if linked is None:
        event(logger, "slack.click_unlinked", logging.WARNING, slack_user=click.slack_user,
              alert_id=click.alert_id)
        return Answer(click, tell=(
            "Your Slack account is not linked to a Tocsin user; add contacts.slack: "
            f"{click.slack_user} to your user in tocsin.yaml. Nothing was changed."))
    try:
        done = _act(runtime, config, click, linked.id, replay_key)
    except NotFound:
        return Answer(click, tell=f"Alert {click.alert_id} does not exist in Tocsin.")
    except (Conflict, InvalidInput) as exc:
        return Answer(click, tell=_sentence(str(exc)) + " Nothing was changed.")
    if done is None:
        return None
    runtime.engine.wake()
    return done


_Action = Callable[..., Alert]
_ACTIONS: dict[str, _Action] = {
    ACK_ACTION_ID: service.acknowledge,
    RESOLVE_ACTION_ID: service.resolve,
    SNOOZE_ACTION_ID: actions.snooze,
    ESCALATE_ACTION_ID: actions.escalate_now,
    UNACK_ACTION_ID: actions.unacknowledge,
    REASSIGN_ACTION_ID: actions.reassign,
    RESPONDER_ACTION_ID: actions.add_responder,
}


def _act(runtime: Runtime, config: Config, click: Click, user_id: str,
         replay_key: str | None) -> Answer | None:
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        if replay_key is not None and not replays.claim(
                session, source=replays.SLACK, key=replay_key, now=now,
                alert_id=click.alert_id):
            return None
        alert = service.get_alert(session, click.alert_id)
        stale = _stale(config, click, alert, now)
        if stale is not None:
            return Answer(click, _page(runtime, config, alert, user_id),
                          _status_note(config, alert, now), stale)
        extra: dict[str, int | Target] = {}
        if click.action_id in _TARGET_KINDS:
            target = answer_targets.from_code(config, click.target or "",
                                              _TARGET_KINDS[click.action_id])
            if target is None:
                return Answer(click, tell=_unknown_target(click))
            extra["target"] = target
        if click.minutes is not None:
            extra["minutes"] = click.minutes
        if click.step is not None and click.action_id == ESCALATE_ACTION_ID:
            extra["from_step"] = click.step
        carrier = _ACTIONS[click.action_id](session, config=config, alert_id=alert.id,
                                            actor=user_id, surface=SURFACE, now=now, **extra)
        alert = service.get_alert(session, click.alert_id)
        note = _done_note(config, click, carrier, user_id, now, extra.get("target"))
        page = _page(runtime, config, alert, user_id)
    event(logger, "slack.click_applied", alert_id=click.alert_id, action=click.action_id,
          actor=user_id)
    return Answer(click, page, note)


def _stale(config: Config, click: Click, alert: Alert, now: datetime) -> str | None:
    """What to tell a clicker whose button no longer applies; None when it does."""
    if alert.status == RESOLVED:
        return (f"Alert {alert.id} is already resolved by {_name(config, alert.resolved_by)} "
                f"at {_when(alert.resolved_at, now)}. Nothing was changed.")
    if click.action_id == ACK_ACTION_ID and alert.status == ACKNOWLEDGED:
        return (f"Alert {alert.id} was already acknowledged by "
                f"{_name(config, alert.acknowledged_by)} at {_when(alert.acknowledged_at, now)}.")
    if click.action_id == UNACK_ACTION_ID and alert.status == TRIGGERED:
        return f"Alert {alert.id} is not acknowledged. Nothing was changed."
    return None


def _unknown_target(click: Click) -> str:
    kinds = _TARGET_KINDS[click.action_id]
    return (f"{click.target or 'That choice'} is not a {answer_targets.nouns(kinds)} in "
            "Tocsin's config now (it may have changed since this message was sent); choose "
            "one the menu lists, or reply REASSIGN/ADD by text. Nothing was changed.")


def _done_note(config: Config, click: Click, carrier: Alert, user_id: str,
               now: datetime, target: object = None) -> str:
    who = _name(config, user_id)
    if isinstance(target, Target):
        named = f"{answer_targets.noun(target.kind)} {_target_name(config, target)}"
        if click.action_id == REASSIGN_ACTION_ID:
            return f"Reassigned to {named} by {who} at {_when(now, now)}"
        return f"Added {named} as a responder, by {who} at {_when(now, now)}"
    if click.action_id == UNACK_ACTION_ID:
        return (f"Un-acknowledged by {who} at {_when(now, now)}; escalation resumes at step "
                f"{max(carrier.step, 0) + 1}")
    if click.action_id == SNOOZE_ACTION_ID:
        minutes = click.minutes or 0
        until = now + timedelta(minutes=minutes)
        return f"Snoozed for {SNOOZE_CHOICES[minutes]} by {who}, until {_when(until, now)}"
    if click.action_id == ESCALATE_ACTION_ID:
        return f"Escalated to step {max(carrier.step, 0) + 1} by {who} at {_when(now, now)}"
    verb = "Acknowledged" if click.action_id == ACK_ACTION_ID else "Resolved"
    return f"{verb} by {who} at {_when(now, now)}"


def _status_note(config: Config, alert: Alert, now: datetime) -> str:
    if alert.status == RESOLVED:
        return f"Resolved by {_name(config, alert.resolved_by)} at {_when(alert.resolved_at, now)}"
    if alert.status == ACKNOWLEDGED:
        return (f"Acknowledged by {_name(config, alert.acknowledged_by)} at "
                f"{_when(alert.acknowledged_at, now)}")
    return f"Triggered at {_when(alert.triggered_at, now)}"


def _page(runtime: Runtime, config: Config, alert: Alert, user_id: str) -> Page:
    """The page message's facts for the alert as it is now, seen by the clicker."""
    user = config.users.get(user_id)
    ack_url = runtime.links.url(alert.id, user_id) if alert.status == TRIGGERED else None
    return Page(
        delivery_id=0, idempotency_key="", alert_id=alert.id, title=alert.title,
        status=alert.status, user_id=user_id, user_name=user.display if user else user_id,
        address=user.contacts.get("slack", "") if user else "",
        triggered_at=alert.triggered_at, step=max(alert.step, 0) + 1,
        severity=alert.severity, service=alert.service, description=alert.description,
        source_url=alert.source_url, runbook_url=alert.runbook_url, ack_url=ack_url,
        labels={str(k): str(v) for k, v in (alert.labels or {}).items()},
    )


def _target_name(config: Config, target: Target) -> str:
    return _name(config, target.name) if target.kind == "user" else target.name


def _name(config: Config, user_id: str | None) -> str:
    user = config.users.get(user_id or "")
    return user.display if user else (user_id or "someone")


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "an unknown time"
    if moment.date() == now.date():
        return f"{moment:%H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def deliver(replies: SlackReplies, found: Answer) -> None:
    """Send what `answer` decided: the message update, then the private note."""
    click = found.click
    if found.page is not None and click.channel and click.message_ts:
        replies.update_page(channel=click.channel, ts=click.message_ts, page=found.page,
                            note=found.note)
    if found.tell is not None and click.channel:
        replies.tell(channel=click.channel, user=click.slack_user, text=found.tell,
                     alert_id=click.alert_id or None)
