"""A click on a shift survey's button in Slack: record the score, then say so.

`read_click` picks survey clicks out of `/slack/interactions` payloads
(action ids starting `tocsin_survey_`, values `survey_id:score`); anything
else is left to the page handler (web.slack_actions). The click acts as the
Tocsin user linked to the Slack user, through metrics.survey_service with
the surface "slack"; the message is then rewritten with the answer noted,
its buttons kept so the person may change it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from tocsin.alerts import replay_store as replays
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import Forbidden, NotFound
from tocsin.logs import event
from tocsin.metrics import survey_service
from tocsin.notify.slack import escape
from tocsin.notify.slack_replies import SlackReplies
from tocsin.notify.surveys import LABELS, SURVEY_ACTION_PREFIX, SurveyMessage, slack_blocks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SurveyClick:
    slack_user: str
    channel: str | None
    message_ts: str | None
    survey_id: int
    score: int
    question: str  # the message's question, to write it back unchanged


@dataclass(frozen=True)
class Reply:
    click: SurveyClick
    note: str | None = None  # rewrites the message with this note
    tell: str | None = None  # a note only the clicker sees


def read_click(payload: str | None) -> SurveyClick | None:
    """The survey click a `block_actions` payload holds; None when it is not one."""
    try:
        data = json.loads(payload or "")
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("type") != "block_actions":
        return None
    found = data.get("actions")
    action = found[0] if isinstance(found, list) and found else None
    if not isinstance(action, dict):
        return None
    action_id = action.get("action_id")
    if not isinstance(action_id, str) or not action_id.startswith(SURVEY_ACTION_PREFIX):
        return None
    survey_text, _, score_text = str(action.get("value") or "").partition(":")
    user = _text(data, "user", "id")
    if (user is None or not _small_number(survey_text) or not _small_number(score_text)
            or int(score_text) not in LABELS):
        event(logger, "slack.survey_click_unreadable", logging.WARNING)
        return None
    return SurveyClick(slack_user=user,
                       channel=_text(data, "container", "channel_id")
                       or _text(data, "channel", "id"),
                       message_ts=_text(data, "container", "message_ts"),
                       survey_id=int(survey_text), score=int(score_text),
                       question=_question(data))


def answer(runtime: Runtime, config: Config, click: SurveyClick,
           replay_key: str | None = None) -> Reply | None:
    """Record the click's score as the linked user; None for a repeat of an answered click."""
    linked = config.user_by_contact("slack", click.slack_user)
    if linked is None:
        event(logger, "slack.click_unlinked", logging.WARNING, slack_user=click.slack_user,
              survey_id=click.survey_id)
        return Reply(click, tell=(
            "Your Slack account is not linked to a Tocsin user; add contacts.slack: "
            f"{click.slack_user} to your user in tocsin.yaml. Nothing was recorded."))
    now = runtime.clock.now()
    try:
        with transaction(runtime.sessions) as session:
            if replay_key is not None and not replays.claim(
                    session, source=replays.SLACK, key=replay_key, now=now):
                return None
            survey_service.answer(session, survey_id=click.survey_id, user_id=linked.id,
                                  score=click.score, surface="slack", now=now)
    except NotFound:
        return Reply(click, tell=f"Survey {click.survey_id} no longer exists in Tocsin.")
    except Forbidden:
        return Reply(click, tell="This survey was sent to someone else; nothing was recorded.")
    return Reply(click, note=_note(click.score, now))


def _note(score: int, now: datetime) -> str:
    return (f"Thank you: you answered {LABELS[score]} at {now:%H:%M} UTC. "
            "Another button changes your answer.")


def deliver(replies: SlackReplies, found: Reply) -> None:
    """Send what `answer` decided: the rewritten message, or the private note."""
    click = found.click
    if found.note is not None and click.channel and click.message_ts:
        message = SurveyMessage(survey_id=click.survey_id, idempotency_key="",
                                user_id="", user_name="", address=click.channel,
                                question=click.question, links={})
        replies.update_message(channel=click.channel, ts=click.message_ts,
                               text=escape(f"{found.note} {click.question}"),
                               blocks=slack_blocks(message, found.note))
    if found.tell is not None and click.channel:
        replies.tell(channel=click.channel, user=click.slack_user, text=found.tell)


def _question(data: dict[str, object]) -> str:
    """The question as the message showed it, read back from its first section."""
    message = data.get("message")
    blocks = message.get("blocks") if isinstance(message, dict) else None
    first = blocks[0] if isinstance(blocks, list) and blocks else None
    text = first.get("text") if isinstance(first, dict) else None
    found = text.get("text") if isinstance(text, dict) else None
    if not isinstance(found, str):
        return "How was your on-call shift, from 1 (awful) to 5 (great)?"
    # Slack sends mrkdwn back escaped; the blocks escape it again.
    return found.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")[:2000]


def _small_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < len(text) <= 9


def _text(data: dict[str, object], outer: str, inner: str) -> str | None:
    found = data.get(outer)
    value = found.get(inner) if isinstance(found, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None
