"""Forward pages to any PagerDuty Events API v2 endpoint (`contacts.pagerduty`).

A page is a `trigger` event for the contact's routing key; the alert's
acknowledgement and resolve follow later as `acknowledge` and `resolve`
events with the same `dedup_key` (`tocsin-<alert id>`), queued by
`notify.pagerduty_store` and sent by the engine. An alert triggered again
here (a lapsed acknowledgement, unacknowledge, escalate now) sends a new
`trigger` with that key; the far side decides what it does with it
(PagerDuty keeps an acknowledged incident acknowledged). The far side may be
PagerDuty itself or anything that speaks Events v2, another Tocsin included.

Answers: 202 (any 2xx) is delivered; 429, 408 and 5xx, timeouts and
connection errors are worth retrying; any other answer, 400 above all, is
final, with the far side's message in the detail. The routing key is a
secret: it never appears in a detail or a log line, even when the far side
quotes it back.

This uses httpx rather than the `pagerduty` package's Events client: that
client insists on an https:// base URL (a plain-HTTP endpoint on a private
network or on loopback needs a subclass to get past it), raises on a 2xx
without `dedup_key`, and would be a new runtime dependency for one POST.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx

from tocsin.config.model import PagerDutyProvider
from tocsin.notify import tls
from tocsin.notify.base import DeliveryOutcome, Page, log_outcome, utc_stamp
from tocsin.notify.webhook import encode_body, safe_url

logger = logging.getLogger(__name__)

CHANNEL = "pagerduty"
CLIENT = "Tocsin"
MAX_SUMMARY = 1024
# Long enough for PagerDuty's message and its list of errors; a timeline row
# is not the place for a whole body.
MAX_DETAIL = 400

# Events v2 has four severities. Tocsin's words (alerts.rules.SEVERITY_URGENCY)
# map so that the far side's usual urgency rule (critical and error page at
# high urgency, warning and info at low) agrees with Tocsin's own: SEV3 is
# high in Tocsin, so it is `error`, not `warning`.
SEVERITY_MAP: dict[str, str] = {
    "critical": "critical", "error": "error", "warning": "warning", "info": "info",
    "p1": "critical", "p2": "error", "p3": "warning", "p4": "info", "p5": "info",
    "sev1": "critical", "sev2": "error", "sev3": "error", "sev4": "warning",
    "high": "critical", "low": "warning",
}
# A missing or unknown severity is high in Tocsin: never quieter on the far side.
DEFAULT_SEVERITY = "critical"

_RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class FollowUp:
    """An acknowledge or resolve for an alert whose trigger reached `routing_key`."""

    followup_id: int
    alert_id: int
    action: str  # "acknowledge" | "resolve" | "trigger"
    user_id: str
    routing_key: str
    page: Page | None = None  # a trigger's alert as it is now (its address: the key)


@runtime_checkable
class FollowUpNotifier(Protocol):
    """A channel that can also send a forwarded alert's acknowledge or resolve."""

    channel: str

    def send_followup(self, followup: FollowUp) -> DeliveryOutcome: ...


def dedup_key(alert_id: int) -> str:
    """The far side's key for a Tocsin alert: the same for its trigger, ack and resolve."""
    return f"tocsin-{alert_id}"


def pd_severity(severity: str | None) -> str:
    """The Events v2 severity for a Tocsin severity word, in any case, dashes ignored."""
    if severity is None:
        return DEFAULT_SEVERITY
    return SEVERITY_MAP.get(severity.strip().lower().replace("-", ""), DEFAULT_SEVERITY)


def alert_url(public_url: str, alert_id: int) -> str | None:
    """The alert's page in Tocsin's UI, or None when no public URL is known."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/ui/alerts/{alert_id}"


def trigger_event(page: Page, public_url: str = "") -> dict[str, Any]:
    """The Events v2 body of a trigger for `page` (the routing key is its address)."""
    payload: dict[str, Any] = {
        "summary": (page.title or f"alert {page.alert_id}")[:MAX_SUMMARY],
        "source": page.service or "tocsin",
        "severity": pd_severity(page.severity),
        "timestamp": utc_stamp(page.triggered_at),
    }
    for name in ("component", "group", "class"):
        if page.labels.get(name):
            payload[name] = page.labels[name]
    payload["custom_details"] = {"labels": dict(page.labels), "alert_id": page.alert_id,
                                 "step": page.step}
    if page.description:
        payload["custom_details"]["description"] = page.description
    here = alert_url(public_url, page.alert_id)
    links = [{"href": href, "text": text} for href, text in (
        (page.source_url, "Source"), (page.runbook_url, "Runbook"),
        (here, f"Tocsin alert #{page.alert_id}"),
    ) if href]
    event: dict[str, Any] = {
        "routing_key": page.address, "event_action": "trigger",
        "dedup_key": dedup_key(page.alert_id), "payload": payload, "client": CLIENT,
    }
    if links:
        event["links"] = links
    if here:
        event["client_url"] = here
    return event


def followup_event(followup: FollowUp) -> dict[str, Any]:
    """The Events v2 body of an acknowledge or resolve."""
    return {"routing_key": followup.routing_key, "event_action": followup.action,
            "dedup_key": dedup_key(followup.alert_id)}


class PagerDutyForwarder:
    """Sends Events v2 events to the configured endpoint, one POST each."""

    channel = CHANNEL

    def __init__(
        self, provider: PagerDutyProvider, public_url: str = "",
        client: httpx.Client | None = None,
    ) -> None:
        self._provider = provider
        self._public_url = public_url
        self._owns_client = client is None
        # Redirects are not followed: a routing key goes only where configured.
        self._client = client if client is not None else httpx.Client(
            follow_redirects=False, verify=tls.http_context())

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def send(self, page: Page) -> DeliveryOutcome:
        outcome = self._post(trigger_event(page, self._public_url), page.address)
        log_outcome(logger, "notify.pagerduty.triggered", "notify.pagerduty.trigger_failed",
                    outcome, {"delivery_id": page.delivery_id, "alert_id": page.alert_id,
                              "user_id": page.user_id})
        return outcome

    def send_followup(self, followup: FollowUp) -> DeliveryOutcome:
        if followup.page is not None:
            body = trigger_event(followup.page, self._public_url)
        else:
            body = followup_event(followup)
        outcome = self._post(body, followup.routing_key)
        log_outcome(logger, "notify.pagerduty.followed_up", "notify.pagerduty.followup_failed",
                    outcome, {"followup_id": followup.followup_id,
                              "alert_id": followup.alert_id, "action": followup.action,
                              "user_id": followup.user_id})
        return outcome

    def _post(self, event: dict[str, Any], routing_key: str) -> DeliveryOutcome:
        target = safe_url(self._provider.url)
        try:
            response = self._client.post(
                self._provider.url, content=encode_body(event),
                headers={"Content-Type": "application/json"},
                timeout=self._provider.timeout_seconds,
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return DeliveryOutcome(ok=False, detail=f"Events API URL {target} is not usable")
        except httpx.TimeoutException:
            return DeliveryOutcome(ok=False, retryable=True, detail=f"{target} timed out")
        except httpx.RequestError as exc:
            # The exception text may quote the URL; its type names the failure.
            detail = f"{target} unreachable ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, retryable=True, detail=detail)
        return _outcome(target, response, routing_key)


def _outcome(target: str, response: httpx.Response, routing_key: str) -> DeliveryOutcome:
    status = response.status_code
    body = _json(response)
    if 200 <= status < 300:
        found = body.get("dedup_key")
        return DeliveryOutcome(ok=True, detail=f"{target} accepted the event (HTTP {status})",
                               provider_id=found if isinstance(found, str) else None)
    retryable = status >= 500 or status in _RETRYABLE_STATUSES
    said = _their_message(body)
    detail = f"{target} answered HTTP {status}" + (f": {said}" if said else "")
    return DeliveryOutcome(ok=False, retryable=retryable,
                           detail=_without(detail, routing_key)[:MAX_DETAIL])


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


def _their_message(body: dict[str, Any]) -> str:
    """PagerDuty's `message` and `errors`, as one line."""
    message = body.get("message")
    parts = [message] if isinstance(message, str) and message else []
    errors = body.get("errors")
    if isinstance(errors, list):
        parts += [str(error) for error in errors if error]
    return "; ".join(" ".join(part.split()) for part in parts)


def _without(text: str, secret: str) -> str:
    # A far side may quote the routing key back ("unknown routing key abc..."):
    # the detail goes on the timeline and into logs, so the key is cut out.
    return text.replace(secret, "<routing key>") if secret else text
