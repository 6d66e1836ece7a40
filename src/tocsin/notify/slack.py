"""Slack pages: a direct message with buttons, through slack_sdk's sync client.

`page.address` is a Slack user id (posting to it opens the DM) or a channel
id. The message has a plain-text fallback for notifications and blocks with
the alert's facts, its links, and Acknowledge / Resolve / Escalate now
buttons whose `value` is the alert id (Un-acknowledge in place of
Acknowledge once acknowledged), a Snooze menu whose options are
`alert_id:minutes`, and Reassign and Add responder menus whose options are
`alert_id:code` (config.answer_targets; people and schedules, plus policies
for a responder; the first 100); the web edge's `/slack/interactions` handler acts on
them and rewrites the message with only the controls that still apply.
The signed ack link is added as a plain link for people whose Slack app
is not connected to Tocsin's interactivity endpoint. A notice
(a handoff notice) is a plain-text direct message to the same kind of address.
A storm bundle is one message: the summary, the first alerts it covers with
"and N more" (every id is listed in the plain text), and a button that
opens its acknowledge-all link.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from tocsin.config import answer_targets
from tocsin.config.answer_targets import Choice
from tocsin.config.model import Config, SlackProvider
from tocsin.notify.base import DeliveryOutcome, Notice, Page, log_outcome
from tocsin.notify.bundles import RATE_LIMIT, BundlePage, held_count, id_ranges, summary
from tocsin.notify.templates import PageTemplate, render

logger = logging.getLogger(__name__)

ACK_ACTION_ID = "tocsin_ack"
RESOLVE_ACTION_ID = "tocsin_resolve"
SNOOZE_ACTION_ID = "tocsin_snooze"
ESCALATE_ACTION_ID = "tocsin_escalate"
UNACK_ACTION_ID = "tocsin_unack"
REASSIGN_ACTION_ID = "tocsin_reassign"
RESPONDER_ACTION_ID = "tocsin_add_responder"
# The snooze menu's choices, in minutes, and how the menu names them.
SNOOZE_CHOICES = {15: "15 minutes", 30: "30 minutes", 60: "1 hour", 240: "4 hours"}

# Slack's own error codes for failures on its side that may pass.
_RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# Slack rejects a header block longer than 150 characters and a section
# text longer than 3000.
_HEADER_LIMIT = 150
_SECTION_LIMIT = 3000
_ERROR_CODE = re.compile(r"[a-z0-9_.]{1,80}")
# Alerts a bundle's message shows one per line; the rest are counted.
_BUNDLE_SHOWN = 15
BUNDLE_ACK_ACTION_ID = "tocsin_bundle_ack_link"
# Slack refuses a select with more than 100 options, an option's text over
# 75 characters and its value over 150.
_MENU_OPTIONS = 100
_OPTION_TEXT = 75
_OPTION_VALUE = 150

Groups = tuple[tuple[str, tuple[Choice, ...]], ...]


@dataclass(frozen=True)
class TargetMenus:
    """The Reassign and Add responder menus' choices, under a heading per kind."""

    reassign: Groups = ()
    responder: Groups = ()


def target_menus(config: Config) -> TargetMenus:
    def groups(kinds: tuple[str, ...]) -> Groups:
        return tuple((heading, tuple(found))
                     for heading, found in answer_targets.grouped(config, kinds))
    return TargetMenus(groups(answer_targets.REASSIGN_KINDS),
                       groups(answer_targets.RESPONDER_KINDS))


class SlackNotifier:
    channel = "slack"

    def __init__(
        self,
        provider: SlackProvider,
        *,
        timeout_seconds: int = 10,
        client: WebClient | None = None,
        template: PageTemplate | None = None,
        menus: TargetMenus | None = None,
    ) -> None:
        # No retry handlers: the engine retries with backoff, and a second
        # layer of retries here would hold the delivery's lease longer.
        if client is None:
            client = WebClient(
                token=provider.token,
                base_url=provider.api_url,
                timeout=timeout_seconds,
                retry_handlers=[],
            )
        self._client = client
        self._template = template  # notifications.templates.slack, if configured
        self._menus = menus or TargetMenus()

    def send(self, page: Page) -> DeliveryOutcome:
        outcome = self._post(page)
        _log_outcome(page, outcome)
        return outcome

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome:
        outcome = self._chat_post(page.address, bundle_text(page), bundle_blocks(page))
        log_outcome(logger, "notify.slack.bundle_delivered", "notify.slack.bundle_failed",
                    outcome, {"bundle_id": page.bundle_id, "user_id": page.user_id,
                              "alerts": len(page.alerts)})
        return outcome

    def send_notice(self, notice: Notice) -> DeliveryOutcome:
        """A plain direct message: a notice has nothing to acknowledge, so no buttons."""
        outcome = self._post_text(notice.address, escape(notice.text))
        _log_notice_outcome(notice, outcome)
        return outcome

    def post_blocks(
        self, address: str, text: str, blocks: list[dict[str, Any]],
    ) -> DeliveryOutcome:
        """A message built by the caller (the shift survey): `text` is the mrkdwn fallback."""
        return self._chat_post(address, text, blocks)

    def _post_text(self, address: str, text: str) -> DeliveryOutcome:
        return self._chat_post(address, text, None)

    def _post(self, page: Page) -> DeliveryOutcome:
        custom = render(self._template, page)
        if custom is None:
            return self._chat_post(page.address, fallback_text(page),
                                   build_blocks(page, menus=self._menus))
        # The template's text is the notification and the message's body section.
        text = _clip_escaped(custom.strip(), _SECTION_LIMIT)
        return self._chat_post(page.address, text, build_blocks(page, text, self._menus))

    def _chat_post(
        self, address: str, text: str, blocks: list[dict[str, Any]] | None,
    ) -> DeliveryOutcome:
        try:
            response = self._client.chat_postMessage(
                channel=address, text=text, blocks=blocks,
                unfurl_links=False, unfurl_media=False,
            )
        except SlackApiError as exc:
            return _outcome_for_api_error(exc)
        except (OSError, HTTPException) as exc:
            # URLError, timeouts and dropped connections all land here.
            detail = f"Slack unreachable ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, retryable=True, detail=detail)
        except SlackClientError as exc:
            detail = f"Slack client refused the request ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, detail=detail)
        ts = response.get("ts")
        return DeliveryOutcome(
            ok=True,
            detail=f"posted to Slack {address}",
            provider_id=str(ts) if ts is not None else None,
        )


def slack_error_code(exc: SlackApiError) -> str:
    """The error code Slack answered, safe to log; never str(exc), which quotes the request."""
    data = exc.response.data
    error = str(data.get("error", "")) if isinstance(data, dict) else ""
    if not _ERROR_CODE.fullmatch(error):
        # slack_sdk puts the start of a non-JSON body here (a proxy's HTML page).
        return "no Slack error code"
    return error


def _outcome_for_api_error(exc: SlackApiError) -> DeliveryOutcome:
    status = int(exc.response.status_code)
    error = slack_error_code(exc)
    detail = f"Slack answered HTTP {status}: {error}"
    retry_after = _header(exc.response.headers, "retry-after")
    if retry_after:
        detail += f" (retry after {str(retry_after)[:10]} s)"
    retryable = status == 429 or status >= 500 or error in _RETRYABLE_ERRORS
    return DeliveryOutcome(ok=False, retryable=retryable, detail=detail)


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name:
            return str(value)
    return None


def _log_outcome(page: Page, outcome: DeliveryOutcome) -> None:
    log_outcome(logger, "notify.slack.delivered", "notify.slack.failed", outcome,
                 {"delivery_id": page.delivery_id, "alert_id": page.alert_id,
                  "user_id": page.user_id})


def _log_notice_outcome(notice: Notice, outcome: DeliveryOutcome) -> None:
    log_outcome(logger, "notify.slack.notice_delivered", "notify.slack.notice_failed", outcome,
                {"notice_id": notice.notice_id, "kind": notice.kind, "user_id": notice.user_id})



def fallback_text(page: Page) -> str:
    """The notification text, and what clients without blocks show."""
    facts = " ".join(_summary_facts(page))
    return escape(f"Page: {page.title} {facts}".rstrip())


def _summary_facts(page: Page) -> list[str]:
    facts = []
    if page.severity:
        facts.append(f"[{page.severity}]")
    if page.service:
        facts.append(page.service)
    facts.append(f"(alert #{page.alert_id}, step {page.step})")
    return facts


def bundle_text(page: BundlePage) -> str:
    """The notification text of a bundle: its summary and every alert id."""
    label = "Held" if page.reason == RATE_LIMIT else "Storm"
    text = f"{label}: {summary(page)} (alerts {id_ranges(page.alert_ids)})"
    return _clip_escaped(escape(text), _SECTION_LIMIT)


def bundle_blocks(page: BundlePage) -> list[dict[str, Any]]:
    count = len(page.alerts)
    lines = [f"#{a.alert_id} {a.title}" + (f" [{a.severity}]" if a.severity else "")
             for a in page.alerts[:_BUNDLE_SHOWN]]
    if count > _BUNDLE_SHOWN:
        lines.append(f"and {count - _BUNDLE_SHOWN} more")
    header = held_count(page) if page.reason == RATE_LIMIT else f"Storm: {held_count(page)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(header)},
        {"type": "section", "text": _mrkdwn(_clip_escaped(escape(summary(page)),
                                                          _SECTION_LIMIT))},
        {"type": "section", "text": _mrkdwn(_clip_escaped(escape("\n".join(lines)),
                                                          _SECTION_LIMIT))},
    ]
    if page.ack_url:
        button = {"type": "button", "text": _plain(f"Acknowledge all {count}"),
                  "action_id": BUNDLE_ACK_ACTION_ID, "url": page.ack_url, "style": "primary"}
        blocks.append({"type": "actions", "block_id": f"tocsin_bundle_{page.bundle_id}",
                       "elements": [button]})
    return blocks


def build_blocks(page: Page, text: str | None = None,
                 menus: TargetMenus | None = None) -> list[dict[str, Any]]:
    """The message's blocks; `text` (mrkdwn, from a template) stands for the description."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(_clip(page.title, _HEADER_LIMIT))},
        {"type": "section", "fields": _fields(page)},
    ]
    if text is None and page.description:
        text = _clip_escaped(escape(page.description), _SECTION_LIMIT)
    if text:
        blocks.append({"type": "section", "text": _mrkdwn(text)})
    links = _links(page)
    if links:
        blocks.append({"type": "context", "elements": [_mrkdwn(" | ".join(links))]})
    blocks.append(_actions(page, menus or TargetMenus()))
    return blocks


def _fields(page: Page) -> list[dict[str, str]]:
    pairs = [
        ("Severity", page.severity or "none"),
        ("Service", page.service or "none"),
        ("Escalation step", str(page.step)),
        ("Alert", f"#{page.alert_id} ({page.status})"),
    ]
    return [_mrkdwn(f"*{label}*\n{escape(value)}") for label, value in pairs]


def _links(page: Page) -> list[str]:
    named = [
        ("Source", page.source_url),
        ("Runbook", page.runbook_url),
        ("Acknowledge in the browser", page.ack_url),
    ]
    return [f"<{escape(url)}|{label}>" for label, url in named if url]


def _actions(page: Page, menus: TargetMenus) -> dict[str, Any]:
    """The controls that still apply to the alert's status; none once it is resolved.

    No Add responder once acknowledged: the responder's page would not be sent.
    """
    value = str(page.alert_id)
    # Escalate now carries the step the message was sent at: a stale message must not skip one.
    escalate_value = f"{page.alert_id}:{page.step}"
    elements: list[dict[str, Any]] = []
    if page.status == "triggered":
        elements.append(_button("Acknowledge", ACK_ACTION_ID, value, "primary"))
    if page.status != "resolved":
        elements += [
            _button("Resolve", RESOLVE_ACTION_ID, value, "danger"),
            _snooze_menu(page.alert_id),
            _button("Escalate now", ESCALATE_ACTION_ID, escalate_value),
        ]
    if page.status == "acknowledged":
        elements.append(_button("Un-acknowledge", UNACK_ACTION_ID, value))
    if page.status != "resolved" and menus.reassign:
        elements.append(_target_menu(page.alert_id, "Reassign", REASSIGN_ACTION_ID,
                                     menus.reassign))
    if page.status == "triggered" and menus.responder:
        elements.append(_target_menu(page.alert_id, "Add responder", RESPONDER_ACTION_ID,
                                     menus.responder))
    return {
        "type": "actions",
        "block_id": f"tocsin_alert_{page.alert_id}",
        "elements": elements,
    }


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button = {
        "type": "button",
        "text": _plain(label),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


def _snooze_menu(alert_id: int) -> dict[str, Any]:
    """A menu, since a select sends only the chosen option: its value is `alert_id:minutes`."""
    options = [{"text": _plain(label), "value": f"{alert_id}:{minutes}"}
               for minutes, label in SNOOZE_CHOICES.items()]
    return {
        "type": "static_select",
        "action_id": SNOOZE_ACTION_ID,
        "placeholder": _plain("Snooze"),
        "options": options,
    }


def _target_menu(alert_id: int, label: str, action_id: str, groups: Groups) -> dict[str, Any]:
    """A menu of targets under headings; each option's value is `alert_id:code`."""
    option_groups: list[dict[str, Any]] = []
    room = _MENU_OPTIONS
    for heading, found in groups:
        options = [{"text": _plain(_clip(c.label, _OPTION_TEXT)), "value": value}
                   for c in found
                   if len(value := f"{alert_id}:{c.code}") <= _OPTION_VALUE][:room]
        room -= len(options)
        if options:
            option_groups.append({"label": _plain(heading), "options": options})
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": _plain(label),
        "option_groups": option_groups,
    }


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _clip(text: str, limit: int = _SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_escaped(text: str, limit: int) -> str:
    """Clip mrkdwn text without cutting an `&amp;`-style entity in half."""
    if len(text) <= limit:
        return text
    body = text[: limit - 1]
    amp = body.rfind("&", len(body) - 5)
    if amp != -1 and ";" not in body[amp:]:
        body = body[:amp]
    return body + "…"


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
