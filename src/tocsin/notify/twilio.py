"""SMS and voice pages through a Twilio-compatible REST API, with httpx.

Both channels POST a form with HTTP basic auth (account id, auth token):

    sms    {api_url}/2010-04-01/Accounts/{sid}/Messages.json   To, From, Body
    phone  {api_url}/2010-04-01/Accounts/{sid}/Calls.json      To, From, Twiml

plus `StatusCallback`: `status_callback_url` when configured, else a page's
own `{public_url}/twilio/status/<delivery id>` (see web.twilio_inbound).
`page.address` is the person's `contacts.sms` or `contacts.phone`, in E.164
form (separators are dropped).
An SMS is one segment (see `sms_text`). A call reads one sentence and asks
for a key (`KEYPAD_PROMPT`: 1 acknowledges, 2 resolves, 3 escalates now, 4
snoozes for `KEYPAD_SNOOZE_MINUTES`, 5 unacknowledges, 6 reassigns, 7 adds a
responder, the last two from a list read next): the
keypad answer goes to `/twilio/voice/<link token>` on Tocsin, the same signed
token as the page's ack link.

Answers: 2xx is delivered, with the Message or Call SID as `provider_id`;
429, 5xx, timeouts and unreachable hosts are worth a retry; any other 4xx
(21211, an invalid `To` number; 20003, bad credentials) is not. There is no
idempotency key in this API: a request that timed out after the provider
accepted it is sent again on retry. The auth token never reaches a log line
or a timeline detail.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import httpx

from tocsin.config.model import TwilioProvider
from tocsin.config.phones import e164
from tocsin.logs import event
from tocsin.notify import tls
from tocsin.notify.base import DeliveryOutcome, Notice, Page
from tocsin.notify.bundles import RATE_LIMIT, BundlePage, summary
from tocsin.notify.email_body import single_line
from tocsin.notify.sms_text import bundle_sms, notice_sms, page_sms
from tocsin.notify.templates import PageTemplate, sms_body, spoken

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
VOICE_ACK_PATH = "/twilio/voice/"
STATUS_PATH = "/twilio/status/"
# What each key does is web.twilio_inbound's KEYPAD; keep the two in step.
KEYPAD_SNOOZE_MINUTES = 30
KEYPAD_PROMPT = ("Press 1 to acknowledge, 2 to resolve, 3 to escalate now, "
                 f"4 to snooze for {KEYPAD_SNOOZE_MINUTES} minutes. "
                 "Press 5 to unacknowledge, 6 to reassign, 7 to add a responder.")
_SPOKEN_TITLE_LIMIT = 200
_MESSAGE_LIMIT = 200  # characters of the provider's error message kept in a detail


class TwilioApi:
    """The account's REST resources; one instance is shared by the SMS and voice notifiers."""

    def __init__(self, provider: TwilioProvider, client: httpx.Client | None = None) -> None:
        self._provider = provider
        # Redirects are not followed: the credentials go only where configured.
        self._client = client if client is not None else httpx.Client(
            follow_redirects=False, verify=tls.http_context())

    def url(self, resource: str) -> str:
        base = self._provider.api_url.rstrip("/")
        return f"{base}/{API_VERSION}/Accounts/{self._provider.account_sid}/{resource}.json"

    def create(self, resource: str, to: str, fields: dict[str, str],
               status_callback: str | None = None) -> DeliveryOutcome:
        """POST one Message or Call to `to`; the outcome says whether a retry may help."""
        number = e164(to)
        if number is None:
            return DeliveryOutcome(ok=False, detail="the contact is not a phone number in "
                                                    "E.164 form (+15550100)")
        provider = self._provider
        form = {"To": number, "From": e164(provider.sender) or provider.sender, **fields}
        callback = provider.status_callback_url or status_callback
        if callback:
            form["StatusCallback"] = callback
        noun = "message" if resource == "Messages" else "call"
        try:
            response = self._client.post(
                self.url(resource), data=form, timeout=provider.timeout_seconds,
                auth=httpx.BasicAuth(provider.account_sid, provider.auth_token),
                headers={"Accept": "application/json"},
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return DeliveryOutcome(ok=False, detail="notifications.twilio.api_url is not usable")
        except httpx.TimeoutException:
            return DeliveryOutcome(ok=False, retryable=True,
                                   detail=f"Twilio timed out creating the {noun}")
        except httpx.TransportError as exc:
            detail = f"Twilio unreachable ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, retryable=True, detail=detail)
        return self._outcome(response, noun)

    def close(self) -> None:
        self._client.close()

    def _outcome(self, response: httpx.Response, noun: str) -> DeliveryOutcome:
        status = response.status_code
        data = _json_object(response)
        if 200 <= status < 300:
            sid = data.get("sid")
            provider_id = sid if isinstance(sid, str) and sid else None
            return DeliveryOutcome(ok=True, detail=f"Twilio accepted the {noun}",
                                   provider_id=provider_id)
        detail = f"Twilio answered HTTP {status}"
        code = data.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            detail += f", error {code}"
        message = data.get("message")
        if isinstance(message, str) and message.strip():
            detail += ": " + self._masked(single_line(message, _MESSAGE_LIMIT))
        return DeliveryOutcome(ok=False, retryable=status == 429 or status >= 500, detail=detail)

    def _masked(self, text: str) -> str:
        return text.replace(self._provider.auth_token, "***")


class TwilioSmsNotifier:
    """Pages and notices as one-segment text messages."""

    channel = "sms"

    def __init__(self, api: TwilioApi, template: PageTemplate | None = None) -> None:
        self._api = api
        self._template = template  # notifications.templates.sms, if configured

    def send(self, page: Page) -> DeliveryOutcome:
        body = sms_body(self._template, page) or page_sms(page)
        outcome = self._api.create("Messages", page.address, {"Body": body}, status_url(page))
        _log_page("sms", page, outcome)
        return outcome

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome:
        outcome = self._api.create("Messages", page.address, {"Body": bundle_sms(page)})
        _log_bundle("sms", page, outcome)
        return outcome

    def send_notice(self, notice: Notice) -> DeliveryOutcome:
        outcome = self._api.create("Messages", notice.address, {"Body": notice_sms(notice.text)})
        _log_notice("sms", notice, outcome)
        return outcome


class TwilioVoiceNotifier:
    """Pages as phone calls. Handoff and gap notices are not phoned: they go by text."""

    channel = "phone"

    def __init__(self, api: TwilioApi, template: PageTemplate | None = None) -> None:
        self._api = api
        self._template = template  # notifications.templates.voice, if configured

    def send(self, page: Page) -> DeliveryOutcome:
        twiml = call_twiml(page, spoken(self._template, page))
        outcome = self._api.create("Calls", page.address, {"Twiml": twiml}, status_url(page))
        _log_page("phone", page, outcome)
        return outcome

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome:
        outcome = self._api.create("Calls", page.address, {"Twiml": bundle_twiml(page)})
        _log_bundle("phone", page, outcome)
        return outcome


def bundle_twiml(page: BundlePage) -> str:
    """A spoken summary of a storm bundle; the keypad does not answer for a bundle."""
    why = " and were held by your rate limit" if page.reason == RATE_LIMIT else ""
    said = (f"Tocsin: {len(page.alerts)} alerts are firing{why}. "
            f"{single_line(summary(page), _SPOKEN_TITLE_LIMIT)}. "
            "Acknowledge them with the link sent by text or e-mail.")
    return f"<Response><Say>{_xml(said)}</Say></Response>"


def _log_bundle(channel: str, page: BundlePage, outcome: DeliveryOutcome) -> None:
    level = logging.INFO if outcome.ok else logging.WARNING
    event(logger, f"notify.{channel}.bundle_" + ("delivered" if outcome.ok else "failed"), level,
          bundle_id=page.bundle_id, user_id=page.user_id, alerts=len(page.alerts),
          retryable=outcome.retryable, detail=outcome.detail, provider_id=outcome.provider_id)


def call_twiml(page: Page, sentence: str | None = None) -> str:
    """`<Response><Gather ...><Say>Tocsin alert: ..., severity x. Press 1 ...</Say>...`.

    `sentence` (a voice template's text) replaces the built-in sentence, not the prompt.
    """
    title = single_line(page.title, _SPOKEN_TITLE_LIMIT) or f"alert {page.alert_id}"
    severity = single_line(page.severity or "", 30)
    if sentence is None:
        sentence = f"Tocsin alert: {title}" + (f", severity {severity}." if severity else ".")
    action = voice_ack_url(page.ack_url)
    if action is None:
        text = f"{sentence} Acknowledge it in Tocsin."
        return f'<Response><Say loop="2">{_xml(text)}</Say></Response>'
    return (
        f'<Response><Gather numDigits="1" action="{_xml(action)}" method="POST" timeout="10">'
        f'<Say loop="2">{_xml(sentence)} {_xml(KEYPAD_PROMPT)}</Say></Gather>'
        "<Say>No key was pressed. Goodbye.</Say></Response>"
    )


def voice_ack_url(ack_url: str | None) -> str | None:
    """Where the keypad answer goes: the ack link's token under `/twilio/voice/`."""
    if not ack_url:
        return None
    base, found, token = ack_url.rpartition("/a/")
    if not found or not token or "/" in token:
        return None
    return f"{base}{VOICE_ACK_PATH}{token}"


def status_url(page: Page) -> str | None:
    """Where Twilio reports on this page: `/twilio/status/<delivery id>` under `public_url`."""
    if not page.ack_url:
        return None
    base, found, _token = page.ack_url.rpartition("/a/")
    return f"{base}{STATUS_PATH}{page.delivery_id}" if found else None


def _xml(text: str) -> str:
    return html.escape(text, quote=True)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _log_page(channel: str, page: Page, outcome: DeliveryOutcome) -> None:
    name = f"notify.{channel}." + ("delivered" if outcome.ok else "failed")
    event(logger, name, logging.INFO if outcome.ok else logging.WARNING,
          delivery_id=page.delivery_id, alert_id=page.alert_id, user_id=page.user_id,
          retryable=outcome.retryable, detail=outcome.detail, provider_id=outcome.provider_id)


def _log_notice(channel: str, notice: Notice, outcome: DeliveryOutcome) -> None:
    name = f"notify.{channel}.notice_" + ("delivered" if outcome.ok else "failed")
    event(logger, name, logging.INFO if outcome.ok else logging.WARNING,
          notice_id=notice.notice_id, kind=notice.kind, user_id=notice.user_id,
          retryable=outcome.retryable, detail=outcome.detail, provider_id=outcome.provider_id)
