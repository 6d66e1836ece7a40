"""The shift survey's message: a Slack DM with five buttons, or an e-mail with five links.

The question is one line; the answers are the scores 1 to 5. On Slack each
button's `value` is `survey_id:score` and its action id starts with
`SURVEY_ACTION_PREFIX` (the web edge's Slack handler answers it). By e-mail
each score is a signed link whose page asks to confirm, since mail scanners
open links.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from tocsin.notify.base import DeliveryOutcome, log_outcome
from tocsin.notify.email import EmailNotifier
from tocsin.notify.email_body import single_line
from tocsin.notify.slack import SlackNotifier, escape

logger = logging.getLogger(__name__)

SURVEY_ACTION_PREFIX = "tocsin_survey_"
SCORES = (1, 2, 3, 4, 5)
LABELS = {1: "1 awful", 2: "2 bad", 3: "3 okay", 4: "4 good", 5: "5 great"}


@dataclass(frozen=True)
class SurveyMessage:
    survey_id: int
    idempotency_key: str  # the same across resends of one survey
    user_id: str
    user_name: str
    address: str  # a Slack user id or an e-mail address
    question: str  # one line, written for the person
    links: dict[int, str]  # score -> signed answer link (e-mail)


def block_id(survey_id: int) -> str:
    return f"tocsin_survey_{survey_id}"


def slack_blocks(message: SurveyMessage, note: str | None = None) -> list[dict[str, Any]]:
    """The question and five buttons; with `note` (after an answer) the note instead."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(message.question)}},
    ]
    if note is not None:
        blocks.append({"type": "context",
                       "elements": [{"type": "mrkdwn", "text": escape(note)}]})
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": LABELS[score]},
         "action_id": f"{SURVEY_ACTION_PREFIX}{score}", "value": f"{message.survey_id}:{score}"}
        for score in SCORES
    ]
    # Kept after an answer: the person may change their mind.
    blocks.append({"type": "actions", "block_id": block_id(message.survey_id),
                   "elements": buttons})
    return blocks


def send_by_slack(notifier: SlackNotifier, message: SurveyMessage) -> DeliveryOutcome:
    outcome = notifier.post_blocks(message.address, escape(message.question),
                                   slack_blocks(message))
    _log(outcome, message, "slack")
    return outcome


def send_by_email(notifier: EmailNotifier, message: SurveyMessage) -> DeliveryOutcome:
    outcome = notifier.send_message(message.address, lambda: email(notifier, message))
    _log(outcome, message, "email")
    return outcome


def email(notifier: EmailNotifier, message: SurveyMessage) -> EmailMessage:
    built = notifier.compose(message.address, message.idempotency_key)
    built["Subject"] = "[Tocsin] " + single_line(message.question, 150)
    lines = [single_line(message.question, 2000), "",
             "Open the link for your answer (the page asks you to confirm):"]
    lines += [f"{LABELS[score]}: {message.links[score]}" for score in SCORES]
    lines += ["", "-- ", "Sent by Tocsin: the on-call survey after each shift."]
    built.set_content("\n".join(lines) + "\n")
    return built


def _log(outcome: DeliveryOutcome, message: SurveyMessage, channel: str) -> None:
    log_outcome(logger, f"notify.{channel}.survey_delivered", f"notify.{channel}.survey_failed",
                outcome, {"survey_id": message.survey_id, "user_id": message.user_id})
