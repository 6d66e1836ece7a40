"""Issue trackers an action item can be pushed to: Jira, GitHub Issues, a webhook.

Each adapter creates an issue for an item and reads an issue's status
back, over HTTP with the caller's `httpx.Client`. Like channel adapters,
they never see the database. A failure raises `TrackerFailure` with a
message safe to show on the item (a status code and the far side's own
error text, never a credential) and whether trying again may help.

A far side may echo the request back in its error, Authorization header
and all, so every credential the request carried is cut out of the
message in each form it may take (`scrub`) before the message is capped.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from tocsin.config.model import Trackers
from tocsin.notify.webhook import safe_url

HIDDEN = "[hidden]"
# The most of a far side's error text kept in a failure message.
MAX_FAR_TEXT = 300

# A tracker that is overloaded, rate limiting or timing out may take the
# same request later; any other 4xx means the request itself is wrong.
_RETRYABLE = frozenset({408, 409, 423, 429})


@dataclass(frozen=True)
class IssueDraft:
    """An action item as an issue: plain values read just before pushing."""

    item_id: int
    title: str
    body: str
    priority: str
    owner: str
    due_date: date | None
    incident: str  # INC-12
    url: str  # the item's page in Tocsin
    status: str
    idempotency_key: str

    @property
    def label(self) -> str:
        """The label that finds this item's issue again after a lost answer."""
        return f"tocsin-action-item-{self.item_id}"


@dataclass(frozen=True)
class FarStatus:
    done: bool
    label: str  # the far side's own word: "In Progress", "closed"


@dataclass(frozen=True)
class Created:
    key: str  # OPS-12, acme/platform#7
    url: str | None
    status: FarStatus | None = None


@dataclass
class TrackerFailure(Exception):
    message: str
    retryable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class Tracker(Protocol):
    name: str

    def find(self, draft: IssueDraft) -> Created | None: ...

    def create(self, draft: IssueDraft) -> Created: ...

    def status(self, key: str) -> FarStatus | None: ...


def request(client: httpx.Client, name: str, method: str, url: str,
            **kwargs: Any) -> httpx.Response:
    """Send one request; failures become `TrackerFailure`s that quote no credential."""
    target = safe_url(url)
    secrets = request_secrets(kwargs.get("auth"), kwargs.get("headers")) + url_secrets(url)
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise TrackerFailure(f"{name}: {target} timed out", retryable=True) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise TrackerFailure(f"{name}: {target} is not a usable URL") from None
    except httpx.RequestError as exc:
        # The exception text may quote the URL or headers; its type names the failure.
        raise TrackerFailure(f"{name}: {target} unreachable ({type(exc).__name__})",
                             retryable=True) from None
    if response.is_success:
        return response
    retryable = response.status_code >= 500 or response.status_code in _RETRYABLE
    said = scrub(_far_message(response), secrets)[:MAX_FAR_TEXT]
    raise TrackerFailure(
        f"{name}: {method} {target} answered HTTP {response.status_code}"
        + (f": {said}" if said else ""), retryable=retryable)


def _far_message(response: httpx.Response) -> str:
    """The far side's own error words (Jira's errorMessages/errors, GitHub's message)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    words: list[str] = []
    messages = body.get("errorMessages")
    if isinstance(messages, list):
        words += [str(m) for m in messages]
    errors = body.get("errors")
    if isinstance(errors, dict):
        words += [f"{k}: {v}" for k, v in errors.items()]
    if isinstance(body.get("message"), str):
        words.append(body["message"])
    # Cut to MAX_FAR_TEXT only after scrubbing, where a token cut in half would
    # no longer be recognised; this looser cap only bounds the work.
    return "; ".join(words)[:MAX_FAR_TEXT * 20]


def secret_forms(secret: str, user: str | None = None) -> list[str]:
    """A credential as it may come back: plain, URL-encoded, and for basic auth
    `user:secret` and its base64 (the Authorization header's own text)."""
    if not secret:
        return []
    forms = [secret, quote(secret, safe="")]
    if user is not None:
        pair = f"{user}:{secret}"
        forms += [pair, base64.b64encode(pair.encode()).decode()]
    return forms


def request_secrets(auth: Any, headers: Mapping[str, str] | None) -> list[str]:
    """Every credential form one request carries (basic auth, an Authorization header)."""
    found: list[str] = []
    if isinstance(auth, tuple) and len(auth) == 2:
        found += secret_forms(str(auth[1]), str(auth[0]))
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            found += secret_forms(value)
            found += secret_forms(value.split(" ", 1)[1].strip()) if " " in value else []
    return found


def url_secrets(url: str) -> list[str]:
    """What a URL may carry as a credential: its user info, query and fragment, whole
    and (values of 8 characters or more) one by one."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return [url]
    found = [part for part in (parts.query, parts.fragment) if part]
    found += secret_forms(password, parts.username) if password else []
    found += [value for _, value in parse_qsl(parts.query) if len(value) >= 8]
    found += [quote(value, safe="") for value in found if value]
    return found


def tracker_secrets(trackers: Trackers) -> list[str]:
    """Every credential form the configured trackers hold."""
    found: list[str] = []
    if trackers.jira is not None:
        found += secret_forms(trackers.jira.token, trackers.jira.email)
    if trackers.github is not None:
        found += secret_forms(trackers.github.token)
    if trackers.webhook is not None:
        found += secret_forms(trackers.webhook.secret) + url_secrets(trackers.webhook.url)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by `HIDDEN`, longest first (a token inside
    `email:token` must not leave the e-mail beside a half-replaced pair)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text

