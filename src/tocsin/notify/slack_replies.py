"""Answers to a click in Slack: the page message rewritten, or a note only the clicker sees.

Both go through slack_sdk's sync client to the configured `api_url`, never
to the `response_url` a payload names. A failure is logged and dropped: the
action itself is already committed, and the next click tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from tocsin.config.model import SlackProvider
from tocsin.logs import event
from tocsin.notify.base import Page
from tocsin.notify.slack import (
    TargetMenus,
    build_blocks,
    escape,
    fallback_text,
    slack_error_code,
)

logger = logging.getLogger(__name__)

# Slack waits three seconds for the HTTP answer; these calls run after it.
_TIMEOUT_SECONDS = 10


def answered_blocks(page: Page, note: str,
                    menus: TargetMenus | None = None) -> list[dict[str, Any]]:
    """The page's blocks for its alert's status now, with `note` under the header."""
    blocks = [block for block in build_blocks(page, menus=menus)
              if block["type"] != "actions" or block["elements"]]
    status = {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(note)}*"}}
    blocks.insert(1, status)
    return blocks


def answered_text(page: Page, note: str) -> str:
    return f"{escape(note)}. {fallback_text(page)}"


class SlackReplies:
    def __init__(self, provider: SlackProvider, *, client: WebClient | None = None,
                 menus: TargetMenus | None = None) -> None:
        self._menus = menus
        self._client = client or WebClient(token=provider.token, base_url=provider.api_url,
                                           timeout=_TIMEOUT_SECONDS, retry_handlers=[])

    def update_page(self, *, channel: str, ts: str, page: Page, note: str) -> bool:
        """Rewrite the page message at `channel`/`ts` for the alert's new status."""
        def send() -> Any:
            return self._client.chat_update(channel=channel, ts=ts,
                                            text=answered_text(page, note),
                                            blocks=answered_blocks(page, note, self._menus))
        return _sent("chat.update", page.alert_id, send)

    def update_message(self, *, channel: str, ts: str, text: str,
                       blocks: list[dict[str, Any]]) -> bool:
        """Rewrite a message built by the caller (the shift survey's)."""
        def send() -> Any:
            return self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        return _sent("chat.update", None, send)

    def tell(self, *, channel: str, user: str, text: str, alert_id: int | None = None) -> bool:
        """A message in `channel` that only `user` sees (plain text, escaped)."""
        def send() -> Any:
            return self._client.chat_postEphemeral(channel=channel, user=user, text=escape(text))
        return _sent("chat.postEphemeral", alert_id, send)


def _sent(method: str, alert_id: int | None, send: Callable[[], Any]) -> bool:
    try:
        send()
    except SlackApiError as exc:
        event(logger, "slack.reply_failed", logging.WARNING, method=method, alert_id=alert_id,
              status=exc.response.status_code, error=slack_error_code(exc))
        return False
    except (OSError, HTTPException, SlackClientError) as exc:
        event(logger, "slack.reply_failed", logging.WARNING, method=method, alert_id=alert_id,
              error=type(exc).__name__)
        return False
    event(logger, "slack.replied", method=method, alert_id=alert_id)
    return True
