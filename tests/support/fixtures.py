"""Pytest fixtures for the test peers, importable by any conftest.

A conftest re-exports the ones it wants:

    from tests.support.fixtures import fake_clock, fake_slack, webhook_receiver
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.clock import FakeClock

WEBHOOK_SECRET = "whsec-test-0d1e2f"
SLACK_TOKEN = "xoxb-test-token-5a6b7c"
CLOCK_START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(CLOCK_START)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def webhook_receiver(fake_clock: FakeClock) -> Iterator[WebhookReceiver]:
    """A receiver checking signatures with `WEBHOOK_SECRET` against `fake_clock`."""
    with WebhookReceiver(WEBHOOK_SECRET, now=lambda: int(fake_clock.now().timestamp())) as receiver:
        yield receiver
