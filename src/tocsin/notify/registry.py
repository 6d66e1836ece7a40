"""The notifiers a running Tocsin has, keyed by channel name.

The console is always there; Slack, webhooks, e-mail (SMTP), and SMS and
phone calls (one Twilio-compatible account for both), and forwarding to a
PagerDuty Events v2 endpoint only when the
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
from tocsin.notify.pagerduty_forward import PagerDutyForwarder
from tocsin.notify.slack import SlackNotifier, TargetMenus, escape
from tocsin.notify.templates import page_template
from tocsin.notify.twilio import TwilioApi, TwilioSmsNotifier, TwilioVoiceNotifier
from tocsin.notify.webhook import WebhookNotifier


def build_notifiers(
    notifications: Notifications,
    clock: Clock,
    console_stream: TextIO | None = None,
    public_url: str = "",
    menus: TargetMenus | None = None,
) -> dict[str, Notifier]:
    """`menus`: the Reassign and Add responder choices Slack pages offer (none without)."""
    # The console shows signed links only where it is the demo's terminal (no real channel).
    console = ConsoleNotifier(console_stream, show_links=not notifications.real_channels)
    notifiers: dict[str, Notifier] = {"console": console}
    if notifications.slack is not None:
        # Values a Slack template prints are escaped for mrkdwn; its own text is not.
        slack_text = page_template(notifications.templates, "slack", clock, escape)
        notifiers["slack"] = SlackNotifier(notifications.slack, template=slack_text,
                                           menus=menus)
    if notifications.webhook is not None:
        notifiers["webhook"] = WebhookNotifier(notifications.webhook, clock)
    if notifications.email is not None:
        notifiers["email"] = EmailNotifier(
            notifications.email, clock,
            subject_template=page_template(notifications.templates, "email_subject", clock),
            body_template=page_template(notifications.templates, "email_body", clock))
    if notifications.twilio is not None:
        api = TwilioApi(notifications.twilio)
        notifiers["sms"] = TwilioSmsNotifier(
            api, page_template(notifications.templates, "sms", clock))
        notifiers["phone"] = TwilioVoiceNotifier(
            api, page_template(notifications.templates, "voice", clock))
    if notifications.pagerduty is not None:
        # The public URL links each forwarded alert back to its page in Tocsin.
        notifiers["pagerduty"] = PagerDutyForwarder(notifications.pagerduty, public_url)
    return notifiers
