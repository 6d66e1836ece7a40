"""The one small interface every channel adapter implements.

The engine hands an adapter a `Page` (plain values, read from the database
just before sending) and gets a `DeliveryOutcome` back. Adapters never see
the database and never raise for a failed delivery: they say whether it is
worth retrying.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Page:
    delivery_id: int
    idempotency_key: str
    alert_id: int
    title: str
    status: str  # triggered | acknowledged | resolved
    user_id: str
    user_name: str
    address: str  # what the channel sends to: a Slack user id, a URL, an address
    triggered_at: datetime
    step: int  # 1-based escalation step that sent this page
    severity: str | None = None
    service: str | None = None
    description: str | None = None
    source_url: str | None = None
    runbook_url: str | None = None
    ack_url: str | None = None  # signed link: GET confirms, POST acts
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    retryable: bool = False
    detail: str = ""  # shown on the alert's timeline: never a secret
    provider_id: str | None = None  # the provider's id for the message, if any


class Notifier(Protocol):
    channel: str

    def send(self, page: Page) -> DeliveryOutcome: ...


@dataclass(frozen=True)
class Notice:
    """A message to one person that is not about an alert (a handoff or gap notice).

    It has no ack link and no buttons: there is nothing to acknowledge.
    """

    notice_id: int
    idempotency_key: str  # the same across retries of one notice
    kind: str  # "handoff.upcoming" | "handoff.started" | "gap.upcoming"
    user_id: str
    user_name: str
    address: str  # as for a Page: a Slack user id, a URL, an address
    text: str  # one line, written for the person


@runtime_checkable
class NoticeNotifier(Protocol):
    """A channel that can also send a `Notice`; optional beside `Notifier`.

    Kept apart so an adapter (or a test fake) that only pages still satisfies
    `Notifier`; the engine asks `isinstance(notifier, NoticeNotifier)`.
    """

    channel: str

    def send_notice(self, notice: Notice) -> DeliveryOutcome: ...


def log_outcome(
    logger: logging.Logger, ok_event: str, failed_event: str, outcome: DeliveryOutcome,
    fields: dict[str, Any],
) -> None:
    """One log line per delivery attempt, with the outcome beside the ids."""
    fields = {**fields, "retryable": outcome.retryable, "detail": outcome.detail,
              "provider_id": outcome.provider_id}
    if outcome.ok:
        logger.info(ok_event, extra=fields)
    else:
        logger.warning(failed_event, extra=fields)


def utc_stamp(when: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`; stored times are UTC, so a naive value is read as UTC."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
