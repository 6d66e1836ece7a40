"""An incident's Slack channel: create it, set its topic, invite people, post, read back.

Every call goes through slack_sdk's sync client at the configured
`api_url` and answers a `DeliveryOutcome` (retryable for Slack's own
failures, rate limits and network errors), so the Slack worker retries the
way the page sender does. Nothing here knows what an incident is: the
worker passes names, ids and text.

A taken channel name gets a suffix (`inc-2026-0142-2`, then `-3` ...),
clipped so the whole name stays within Slack's 80 characters. An invite
goes one user at a time: Slack refuses a whole batch for one deactivated or
unknown user, and a person already in the channel is not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from http.client import HTTPException

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from tocsin.config.model import SlackProvider
from tocsin.logs import event
from tocsin.notify.base import DeliveryOutcome
from tocsin.notify.slack import escape, slack_error_code

logger = logging.getLogger(__name__)

MAX_NAME = 80
# Suffixes tried after a taken name before giving up: someone is squatting the names.
NAME_ATTEMPTS = 10
TOPIC_LIMIT = 250
TEXT_LIMIT = 3000
# Slack's own error codes for failures on its side that may pass.
_RETRYABLE = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                        "request_timeout"})
# Answers to an invite that leave the person where we wanted them (or nobody to invite).
_INVITE_FINE = frozenset({"already_in_channel", "cant_invite_self"})
# Answers about one person that retrying will not change.
_INVITE_SKIP = frozenset({"user_not_found", "user_is_bot", "user_disabled", "user_is_restricted",
                          "user_is_ultra_restricted", "cant_invite"})


@dataclass(frozen=True)
class Channel:
    id: str
    name: str


@dataclass(frozen=True)
class Made:
    outcome: DeliveryOutcome
    channel: Channel | None = None


@dataclass(frozen=True)
class Invited:
    outcome: DeliveryOutcome
    skipped: tuple[str, ...] = ()  # users Slack would not add, with the reason each


class IncidentSlack:
    def __init__(self, provider: SlackProvider, *, timeout_seconds: int = 10,
                 client: WebClient | None = None) -> None:
        # No retry handlers: the worker retries with backoff (see notify.slack).
        self._client = client or WebClient(token=provider.token, base_url=provider.api_url,
                                           timeout=timeout_seconds, retry_handlers=[])

    def create_channel(self, name: str, *, private: bool) -> Made:
        """Create `name`, or the first free `name-N`; the bot is its first member."""
        for attempt in range(1, NAME_ATTEMPTS + 1):
            wanted = suffixed(name, attempt)
            outcome, response = self._call(partial(
                self._client.conversations_create, name=wanted, is_private=private))
            if response is not None:
                found = response.get("channel") or {}
                channel = Channel(id=str(found.get("id", "")), name=str(found.get("name", wanted)))
                event(logger, "slack.channel_created", channel=channel.id,
                      channel_name=channel.name, private=private)
                return Made(DeliveryOutcome(ok=True, detail=f"created #{channel.name}",
                                            provider_id=channel.id), channel)
            if not outcome.detail.endswith(": name_taken"):
                return Made(outcome)
        detail = f"Slack channel names {name} to {suffixed(name, NAME_ATTEMPTS)} are all taken"
        return Made(DeliveryOutcome(ok=False, detail=detail))

    def set_topic(self, channel: str, topic: str) -> DeliveryOutcome:
        topic = _clip(topic, TOPIC_LIMIT)
        outcome, _ = self._call(lambda: self._client.conversations_setTopic(
            channel=channel, topic=topic))
        return outcome

    def invite(self, channel: str, users: Sequence[str]) -> Invited:
        skipped: list[str] = []
        for user in dict.fromkeys(users):
            outcome, _ = self._call(partial(
                self._client.conversations_invite, channel=channel, users=[user]))
            code = outcome.detail.rpartition(": ")[2]
            if outcome.ok or code in _INVITE_FINE:
                continue
            if code in _INVITE_SKIP:
                skipped.append(f"{user} ({code})")
                continue
            return Invited(outcome, tuple(skipped))
        detail = f"invited {len(users) - len(skipped)} of {len(users)} to {channel}"
        return Invited(DeliveryOutcome(ok=True, detail=detail), tuple(skipped))

    def join(self, channel: str) -> DeliveryOutcome:
        outcome, _ = self._call(lambda: self._client.conversations_join(channel=channel))
        return outcome

    def post(self, channel: str, text: str) -> DeliveryOutcome:
        """Post mrkdwn `text` (already escaped by the caller where it holds mentions)."""
        outcome, response = self._call(lambda: self._client.chat_postMessage(
            channel=channel, text=_clip(text, TEXT_LIMIT), unfurl_links=False,
            unfurl_media=False))
        if response is None:
            return outcome
        ts = response.get("ts")
        return DeliveryOutcome(ok=True, detail=f"posted to {channel}",
                               provider_id=str(ts) if ts is not None else None)

    def message_text(self, channel: str, ts: str) -> tuple[DeliveryOutcome, str | None]:
        """The text of the message at `ts` in `channel`; None when it is gone."""
        outcome, response = self._call(lambda: self._client.conversations_history(
            channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1))
        if response is None:
            return outcome, None
        for message in response.get("messages") or []:
            if isinstance(message, dict) and message.get("ts") == ts:
                return outcome, str(message.get("text") or "")
        return outcome, None

    def _call(self, call: Callable[[], SlackResponse]
              ) -> tuple[DeliveryOutcome, SlackResponse | None]:
        try:
            response = call()
        except SlackApiError as exc:
            return _api_error(exc), None
        except (OSError, HTTPException) as exc:
            detail = f"Slack unreachable ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, retryable=True, detail=detail), None
        except SlackClientError as exc:
            detail = f"Slack client refused the request ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, detail=detail), None
        return DeliveryOutcome(ok=True, detail="ok"), response


def _api_error(exc: SlackApiError) -> DeliveryOutcome:
    status = int(exc.response.status_code)
    code = slack_error_code(exc)
    retryable = status == 429 or status >= 500 or code in _RETRYABLE
    return DeliveryOutcome(ok=False, retryable=retryable,
                           detail=f"Slack answered HTTP {status}: {code}")


def suffixed(name: str, attempt: int) -> str:
    """`name` for the first attempt, then `name-2`, `name-3` ..., within 80 characters."""
    if attempt == 1:
        return name[:MAX_NAME]
    suffix = f"-{attempt}"
    return name[: MAX_NAME - len(suffix)] + suffix


def mention(slack_id: str | None, fallback: str) -> str:
    """A Slack mention for a user id, else the name as plain (escaped) text."""
    if slack_id and slack_id.isalnum():
        return f"<@{slack_id}>"
    return escape(fallback)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

