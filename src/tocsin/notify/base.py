"""The one small interface every channel adapter implements.

The engine hands an adapter a `Page` (plain values, read from the database
just before sending) and gets a `DeliveryOutcome` back. Adapters never see
the database and never raise for a failed delivery: they say whether it is
worth retrying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


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
