"""Fixtures for the adapter tests; they live in `tests.support.fixtures`."""

from tests.support.fixtures import fake_clock, fake_slack, webhook_receiver

__all__ = ["fake_clock", "fake_slack", "webhook_receiver"]
