"""A bundle: one page that stands for many alerts during a storm.

While a route is in storm, a person's pages on one channel are gathered and
sent as one `BundlePage`, at most once a minute. It lists every alert it
covers, read again just before sending (acknowledged and resolved ones are
left out), and carries one signed link that acknowledges them all. A
channel adapter that can send one implements `BundleNotifier` beside
`Notifier`; the text every adapter starts from is `summary`.

A rate limit (engine.pacing) sends the pages it held the same way, once the
contact's window frees; such a bundle's `reason` is `RATE_LIMIT` and every
text says the pages were held by the limit, not that a route is in storm.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tocsin.notify.base import DeliveryOutcome

# Why pages went as one bundle: a route in storm, or a contact's rate limit.
STORM = "storm"
RATE_LIMIT = "rate limit"
REASONS = (STORM, RATE_LIMIT)

# What one message is called on each channel, for a limit in words.
_MESSAGE_NOUNS = {"sms": ("SMS", "SMS"), "phone": ("call", "calls"),
                  "email": ("e-mail", "e-mails"), "slack": ("Slack message", "Slack messages")}

# How many kinds of alert a route's part of the summary names before "and N more".
NAMED_KINDS = 5


@dataclass(frozen=True)
class BundledAlert:
    alert_id: int
    title: str
    kind: str  # what the summary counts: the `alertname` label, else the title
    status: str
    route: str  # the route's path (routes[0]); "" when it took none
    severity: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class BundlePage:
    bundle_id: int
    idempotency_key: str  # the same across retries of one bundle
    user_id: str
    user_name: str
    address: str  # as for a Page: a Slack user id, a URL, an address
    alerts: tuple[BundledAlert, ...]
    ack_url: str | None = None  # signed link: GET confirms, POST acknowledges them all
    reason: str = STORM  # STORM or RATE_LIMIT
    limit: str = ""  # a rate limit in words ("one SMS a minute"); "" when not known

    @property
    def alert_ids(self) -> list[int]:
        return [alert.alert_id for alert in self.alerts]


@runtime_checkable
class BundleNotifier(Protocol):
    """A channel that can send a `BundlePage`; the engine asks with isinstance."""

    channel: str

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome: ...


def summary(page: BundlePage) -> str:
    """One line: `37 alerts on route routes[0] (payment): HighErrorRate x30, DiskFull x7`.

    One such part per route, the busiest first, joined by "; ". Pages a rate
    limit held: `3 alerts held by your limit of one SMS a minute: DiskFull x2 (payment)`.
    """
    if page.reason == RATE_LIMIT:
        return _held_summary(page)
    by_route: dict[str, list[BundledAlert]] = {}
    for alert in page.alerts:
        by_route.setdefault(alert.route, []).append(alert)
    ordered = sorted(by_route.items(), key=lambda item: (-len(item[1]), item[0]))
    return "; ".join(_route_part(route, alerts) for route, alerts in ordered)


def _held_summary(page: BundlePage) -> str:
    count = f"{len(page.alerts)} alert{'s' if len(page.alerts) != 1 else ''}"
    limit = f"your limit of {page.limit}" if page.limit else "the rate limit"
    services = sorted({alert.service for alert in page.alerts if alert.service})
    shown = services[:3] + (["..."] if len(services) > 3 else [])
    where = f" ({', '.join(shown)})" if shown else ""
    # What fired comes before where: an SMS clips the end to keep its link.
    return f"{count} held by {limit}: {kinds(alert.kind for alert in page.alerts)}{where}"


def held_count(page: BundlePage) -> str:
    """`3 alerts`, or `3 alerts (held by the rate limit)`: a header or a timeline's words."""
    count = f"{len(page.alerts)} alert{'s' if len(page.alerts) != 1 else ''}"
    return count + (" (held by the rate limit)" if page.reason == RATE_LIMIT else "")


def limit_words(channel: str, messages: int, per_minutes: float) -> str:
    """A rate limit as a person reads it: `one SMS a minute`, `3 calls in 10 minutes`."""
    one, many = _MESSAGE_NOUNS.get(channel, (f"{channel} page", f"{channel} pages"))
    count = f"one {one}" if messages == 1 else f"{messages} {many}"
    span = "a minute" if per_minutes == 1 else f"in {per_minutes:g} minutes"
    return f"{count} {span}"


def _route_part(route: str, alerts: Sequence[BundledAlert]) -> str:
    count = f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    where = f" on route {route}" if route else ""
    services = sorted({alert.service for alert in alerts if alert.service})
    if services:
        shown = services[:3] + (["..."] if len(services) > 3 else [])
        where += f" ({', '.join(shown)})"
    return f"{count}{where}: {kinds(alert.kind for alert in alerts)}"


def kinds(names: Iterable[str]) -> str:
    """`HighErrorRate x30, DiskFull x7`, the commonest first, then `and N more kinds`."""
    counted = sorted(Counter(names).items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{name} x{count}" for name, count in counted[:NAMED_KINDS])
    rest = len(counted) - NAMED_KINDS
    return shown + (f" and {rest} more kind{'s' if rest != 1 else ''}" if rest > 0 else "")


def id_ranges(ids: Iterable[int]) -> str:
    """Alert ids as `#12-#15, #20`: every id, runs shortened."""
    ordered = sorted(set(ids))
    runs: list[tuple[int, int]] = []
    for alert_id in ordered:
        if runs and alert_id == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], alert_id)
        else:
            runs.append((alert_id, alert_id))
    return ", ".join(f"#{a}" if a == b else f"#{a}-#{b}" for a, b in runs)
