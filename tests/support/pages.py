"""A ready-made `Page` for adapter and engine tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tocsin.notify.base import Page

DEFAULT_PAGE = Page(
    delivery_id=7,
    idempotency_key="delivery-7-0c5d",
    alert_id=12,
    title="Payment API 500s",
    status="triggered",
    user_id="alice",
    user_name="Alice",
    address="U012ABC",
    triggered_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    step=1,
    severity="critical",
    service="payment",
    description="Error rate above 5% for 5 minutes",
    source_url="https://grafana.example.com/d/payments?orgId=1",
    runbook_url="https://wiki.example.com/runbooks/payment-500s",
    ack_url="http://127.0.0.1:8080/a/12/sig-abc123",
    labels={"env": "prod", "region": "eu-west-1"},
)


def make_page(**changes: Any) -> Page:
    """`DEFAULT_PAGE` with the given fields changed."""
    return replace(DEFAULT_PAGE, **changes)
