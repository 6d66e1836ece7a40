"""Outbound webhooks: a signed JSON POST per page.

The body (version 1, stable; new keys may be added, none removed):

    {"event": "page", "delivery_id": 42,
     "alert": {"id", "title", "status", "severity", "service", "description",
               "labels", "source_url", "runbook_url", "triggered_at"},
     "user": {"id", "name"}, "step": 1, "ack_url": "..."}

`triggered_at` is UTC as `YYYY-MM-DDTHH:MM:SSZ`; absent optional values are
null. The body is UTF-8 JSON; non-ASCII text is sent as is, not escaped.

A notice that is not about an alert (a handoff notice) is posted with the
same headers and this body (version 1, stable in the same way):

    {"event": "notice", "notice_id": 3, "kind": "handoff.upcoming",
     "text": "...", "user": {"id", "name"}}

During a storm a person's pages are bundled (version 1, stable in the same
way), and so are the pages a rate limit held; `reason` says which ("storm"
or "rate limit"), `alerts` lists every alert the bundle covers and `ack_url`
acknowledges them all:

    {"event": "bundle", "bundle_id": 5, "summary": "37 alerts on route ...",
     "reason": "storm", "alert_count": 37,
     "alerts": [{"id", "title", "status", "severity", "service", "route"}],
     "user": {"id", "name"}, "ack_url": "..."}

Headers: `Tocsin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over the
bytes `<t>.<raw body>` keyed by the shared secret, and
`Tocsin-Idempotency-Key`, which stays the same across retries of one
delivery so a receiver can drop repeats. `verify` is what a receiver runs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import threading
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import httpx

from tocsin.clock import Clock
from tocsin.config.model import WebhookProvider
from tocsin.notify import keepalive, tls
from tocsin.notify.base import DeliveryOutcome, Notice, Page, log_outcome, utc_stamp
from tocsin.notify.bundles import BundlePage, summary

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Tocsin-Signature"
IDEMPOTENCY_HEADER = "Tocsin-Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300

# A receiver that is overloaded, rate limiting or timing out may accept the
# same page later; any other 4xx means the request itself is wrong.
_RETRYABLE_STATUSES = frozenset({408, 429})
# Connections kept alive per receiver: the engine's sending threads (16) and some.
_CONNECTIONS_PER_HOST = 32
# Receivers whose connections are kept alive, the least recently posted to let go.
_RECEIVERS_KEPT = 64


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Tocsin-Signature` header value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now_unix: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance` seconds of now.

    More than one `v1=` entry is accepted so a sender can sign with an old and
    a new secret while a rotation is under way.
    """
    parsed = _parse_signature(header)
    if parsed is None:
        return False
    timestamp, candidates = parsed
    if abs(now_unix - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    # Check every candidate, so timing does not tell which entry was close.
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    return any(matches)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _parse_signature(header: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return None
    return timestamp, candidates


def safe_url(url: str) -> str:
    """`scheme://host[:port]/path` of `url`: no user info, query or fragment.

    Webhook URLs often carry a token in the query; this is the form that may
    appear in a timeline or a log.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<invalid url>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


@functools.lru_cache(maxsize=1024)
def _safe_url(url: str) -> str:
    """`safe_url`, once per URL: the same few are posted to thousands of times."""
    return safe_url(url)


def build_body(page: Page) -> dict[str, Any]:
    """The JSON document posted for `page` (see the module docstring)."""
    return {
        "event": "page",
        "delivery_id": page.delivery_id,
        "alert": {
            "id": page.alert_id,
            "title": page.title,
            "status": page.status,
            "severity": page.severity,
            "service": page.service,
            "description": page.description,
            "labels": dict(page.labels),
            "source_url": page.source_url,
            "runbook_url": page.runbook_url,
            "triggered_at": utc_stamp(page.triggered_at),
        },
        "user": {"id": page.user_id, "name": page.user_name},
        "step": page.step,
        "ack_url": page.ack_url,
    }


def build_notice_body(notice: Notice) -> dict[str, Any]:
    """The JSON document posted for `notice` (see the module docstring)."""
    return {
        "event": "notice",
        "notice_id": notice.notice_id,
        "kind": notice.kind,
        "text": notice.text,
        "user": {"id": notice.user_id, "name": notice.user_name},
    }


def build_bundle_body(page: BundlePage) -> dict[str, Any]:
    """The JSON document posted for a storm bundle (see the module docstring)."""
    return {
        "event": "bundle",
        "bundle_id": page.bundle_id,
        "summary": summary(page),
        "reason": page.reason,
        "alert_count": len(page.alerts),
        "alerts": [
            {"id": alert.alert_id, "title": alert.title, "status": alert.status,
             "severity": alert.severity, "service": alert.service, "route": alert.route or None}
            for alert in page.alerts
        ],
        "user": {"id": page.user_id, "name": page.user_name},
        "ack_url": page.ack_url,
    }


def encode_body(document: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8; JSON escapes keep the page deliverable.
        return json.dumps(document, separators=(",", ":")).encode("ascii")



class WebhookNotifier:
    """Posts each page to the user's webhook URL (`page.address`)."""

    channel = "webhook"

    def __init__(
        self,
        provider: WebhookProvider,
        clock: Clock,
        client: httpx.Client | None = None,
    ) -> None:
        self._provider = provider
        self._clock = clock
        self._given = client
        # Pages are posted with http.client over connections kept alive
        # (notify.keepalive): a post costs under half the CPU it does through
        # httpx or urllib3, and a mass escalation is thousands of posts in one
        # process. Redirects are not followed: a signed page goes only where
        # configured. When the environment names a proxy, httpx posts instead:
        # it honours HTTP(S)_PROXY and NO_PROXY, as every post did before.
        self._proxied = client is None and bool(urllib.request.getproxies_environment())
        self._connections = keepalive.Connections(
            timeout=provider.timeout_seconds, per_receiver=_CONNECTIONS_PER_HOST,
            receivers=_RECEIVERS_KEPT)
        self._httpx: httpx.Client | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._connections.close()
        with self._lock:
            made, self._httpx = self._httpx, None
        if made is not None:
            made.close()

    def _httpx_client(self) -> httpx.Client:
        if self._given is not None:
            return self._given
        with self._lock:
            if self._httpx is None:
                self._httpx = httpx.Client(follow_redirects=False, verify=tls.http_context())
            return self._httpx

    def send(self, page: Page) -> DeliveryOutcome:
        body = encode_body(build_body(page))
        outcome = self._post(page.address, body, self._headers(body, page.idempotency_key))
        _log_outcome(page, outcome)
        return outcome

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome:
        body = encode_body(build_bundle_body(page))
        outcome = self._post(page.address, body, self._headers(body, page.idempotency_key))
        log_outcome(logger, "notify.webhook.bundle_delivered", "notify.webhook.bundle_failed",
                    outcome, {"bundle_id": page.bundle_id, "user_id": page.user_id,
                              "alerts": len(page.alerts)})
        return outcome

    def _headers(self, body: bytes, idempotency_key: str) -> dict[str, str]:
        timestamp = int(self._clock.now().timestamp())
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._provider.secret, timestamp, body),
            IDEMPOTENCY_HEADER: idempotency_key,
        }

    def send_notice(self, notice: Notice) -> DeliveryOutcome:
        body = encode_body(build_notice_body(notice))
        outcome = self._post(notice.address, body, self._headers(body, notice.idempotency_key))
        _log_notice_outcome(notice, outcome)
        return outcome

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> DeliveryOutcome:
        if self._given is not None or self._proxied:
            return self._post_with_httpx(url, body, headers)
        target = _safe_url(url)
        receiver = keepalive.receiver(url)
        if receiver is None:
            return DeliveryOutcome(ok=False, detail=f"webhook URL {target} is not usable")
        try:
            status = self._connections.post(receiver, body, headers)
        except keepalive.PostFailed as failed:
            # Named as the other channels' httpx names failures: no exception text,
            # which may quote the URL.
            detail = f"{target} timed out" if failed.timed_out else (
                f"{target} unreachable ({failed.kind})")
            return DeliveryOutcome(ok=False, retryable=True, detail=detail)
        except ValueError:
            return DeliveryOutcome(ok=False, detail=f"webhook URL {target} is not usable")
        return _outcome_for_status(target, status)

    def _post_with_httpx(self, url: str, body: bytes, headers: dict[str, str],
                         ) -> DeliveryOutcome:
        target = safe_url(url)
        try:
            response = self._httpx_client().post(
                url, content=body, headers=headers, timeout=self._provider.timeout_seconds
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return DeliveryOutcome(ok=False, detail=f"webhook URL {target} is not usable")
        except httpx.TimeoutException:
            return DeliveryOutcome(ok=False, retryable=True, detail=f"{target} timed out")
        except httpx.RequestError as exc:
            # The exception text may quote the URL; its type names the failure.
            detail = f"{target} unreachable ({type(exc).__name__})"
            return DeliveryOutcome(ok=False, retryable=True, detail=detail)
        return _outcome_for_status(target, response.status_code)


def _outcome_for_status(target: str, status: int) -> DeliveryOutcome:
    detail = f"{target} answered HTTP {status}"
    if 200 <= status < 300:
        return DeliveryOutcome(ok=True, detail=detail)
    retryable = status >= 500 or status in _RETRYABLE_STATUSES
    return DeliveryOutcome(ok=False, retryable=retryable, detail=detail)


def _log_outcome(page: Page, outcome: DeliveryOutcome) -> None:
    log_outcome(logger, "notify.webhook.delivered", "notify.webhook.failed", outcome,
                {"delivery_id": page.delivery_id, "alert_id": page.alert_id,
                 "user_id": page.user_id})


def _log_notice_outcome(notice: Notice, outcome: DeliveryOutcome) -> None:
    log_outcome(logger, "notify.webhook.notice_delivered", "notify.webhook.notice_failed", outcome,
                {"notice_id": notice.notice_id, "kind": notice.kind, "user_id": notice.user_id})

