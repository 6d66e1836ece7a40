"""The notifiers a running Tocsin has, keyed by channel name.

The console is always there; Slack, webhooks, e-mail (SMTP), and SMS and
phone calls (one Twilio-compatible account for both) only when the
configuration names a provider for them. A contact on a channel with no notifier here is
one `tocsin check` already warned about.
"""

from __future__ import annotations

from typing import TextIO

from tocsin.clock import Clock
from tocsin.config.model import Notifications
from tocsin.notify.base import Notifier
from tocsin.notify.console import ConsoleNotifier
from tocsin.notify.email import EmailNotifier
from tocsin.notify.slack import SlackNotifier
from tocsin.notify.twilio import TwilioApi, TwilioSmsNotifier, TwilioVoiceNotifier
from tocsin.notify.webhook import WebhookNotifier


def build_notifiers(
    notifications: Notifications,
    clock: Clock,
    console_stream: TextIO | None = None,
) -> dict[str, Notifier]:
    notifiers: dict[str, Notifier] = {"console": ConsoleNotifier(console_stream)}
    if notifications.slack is not None:
        notifiers["slack"] = SlackNotifier(notifications.slack)
    if notifications.webhook is not None:
        notifiers["webhook"] = WebhookNotifier(notifications.webhook, clock)
    if notifications.email is not None:
        notifiers["email"] = EmailNotifier(notifications.email, clock)
    if notifications.twilio is not None:
        api = TwilioApi(notifications.twilio)
        notifiers["sms"] = TwilioSmsNotifier(api)
        notifiers["phone"] = TwilioVoiceNotifier(api)
    return notifiers
