"""`tocsin user test-page USER CHANNEL`: prove a contact works before 3 a.m. does.

The page goes straight through the channel's real provider, now, without
an alert or the database: it has status `test`, alert id 0 and no ack
link, so nothing can be acknowledged from it. The outcome is printed and
is the exit status (0 delivered, 1 not).
"""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from tocsin.cli.common import ConfigOption, fail, load
from tocsin.clock import SystemClock
from tocsin.config.model import CONTACT_CHANNELS, Config, User
from tocsin.logs import event
from tocsin.notify.base import DeliveryOutcome, Page
from tocsin.notify.registry import build_notifiers

log = logging.getLogger(__name__)

CONSOLE = "console"
# The key under `notifications` that sends each contact channel.
_PROVIDER_OF = {"slack": "slack", "webhook": "webhook", "email": "email",
                "sms": "twilio", "phone": "twilio", "pagerduty": "pagerduty"}
# Contacts that are secrets: named, never printed.
_SECRET_CONTACTS = {"pagerduty": "routing key"}


def send_test_page(
    user: Annotated[str, typer.Argument(help="User id or e-mail address from the config")],
    channel: Annotated[str, typer.Argument(
        help="slack, sms, phone, email, webhook, pagerduty or console")],
    config: ConfigOption = None,
) -> None:
    """Send USER a test page through CHANNEL's provider now and print what happened."""
    loaded = load(config)
    found = loaded.user_by_email_or_id(user)
    if found is None:
        fail(f"unknown user {user!r}; fix: use a user id or e-mail address from the config")
    address = _address(loaded, found, channel)
    notifier = build_notifiers(loaded.notifications, SystemClock(), sys.stdout)[channel]
    page = _page(found, channel, address)
    try:
        outcome = notifier.send(page)
    except Exception as exc:
        # An adapter bug is a failed test page, reported like any other failure.
        log.exception("user.test_page_crashed")
        outcome = DeliveryOutcome(ok=False, detail=type(exc).__name__)
    event(log, "user.test_page", user=found.id, channel=channel, ok=outcome.ok,
          detail=outcome.detail)
    where = f"{found.display} via {channel} ({_SECRET_CONTACTS.get(channel, address)})"
    if not outcome.ok:
        fail(f"test page to {where} failed: {outcome.detail}")
    provider_id = f" [{outcome.provider_id}]" if outcome.provider_id else ""
    sys.stdout.write(f"test page delivered to {where}: {outcome.detail}{provider_id}\n")


def _address(config: Config, user: User, channel: str) -> str:
    """The contact to page, or exit 1 naming what to add to the config."""
    if channel == CONSOLE:
        return user.id
    if channel not in CONTACT_CHANNELS:
        fail(f"unknown channel {channel!r}; fix: use one of "
             f"{', '.join((*CONTACT_CHANNELS, CONSOLE))}")
    address = user.contacts.get(channel)
    if not address:
        have = ", ".join(user.contacts) or "none"
        fail(f"{user.id} has no {channel} contact (contacts: {have}); "
             f"fix: add contacts.{channel} to {user.id} in the config")
    if channel not in config.notifications.real_channels:
        provider = _PROVIDER_OF[channel]
        fail(f"no {provider} provider is configured, so {channel} cannot be sent; "
             f"fix: add notifications.{provider} to the config")
    return address


def _page(user: User, channel: str, address: str) -> Page:
    return Page(
        delivery_id=0, idempotency_key=f"tocsin-test-{uuid.uuid4().hex}", alert_id=0,
        title=f"Test page from Tocsin for {user.display} via {channel}; no action needed",
        status="test", user_id=user.id, user_name=user.display, address=address,
        triggered_at=datetime.now(UTC), step=0, severity="test",
    )
