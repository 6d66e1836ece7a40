"""How fast pages go out: `notifications.failover_after_minutes` and `notifications.rate_limits`.

    notifications:
      failover_after_minutes: 2          # not delivered 2 minutes after due: next rule goes
      rate_limits:
        sms: {messages: 1, per_minutes: 1}
        phone: {messages: 1, per_minutes: 2}

The loader reads the shapes below; `read_pacing` builds the model's values
and warns about a failover time under a minute. What the engine does with
them is in docs/channels.md ("Pacing").
"""

from __future__ import annotations

from typing import Any

from tocsin.config.convert import number, shape
from tocsin.config.model import CONTACT_CHANNELS, DEFAULT_FAILOVER_AFTER_MINUTES, RateLimit
from tocsin.config.schema import Fields, Key, Problems, Shape

# A day: a longer failover time or window is a typo, as for notification rules.
MAX_PACING_MINUTES = 24 * 60
# More pages than this per window to one contact is no limit at all: a typo.
MAX_MESSAGES = 10_000

_RATE_LIMIT: Shape = {
    "messages": Key(number(1, whole=True, maximum=MAX_MESSAGES), required=True,
                    example="messages: 1"),
    "per_minutes": Key(number(0, above=True, maximum=MAX_PACING_MINUTES), required=True,
                       example="per_minutes: 1"),
}

# The keys are channels: an unknown one is reported with the list of channels.
RATE_LIMITS: Shape = {channel: Key(shape(_RATE_LIMIT)) for channel in CONTACT_CHANNELS}

FAILOVER_AFTER = Key(number(0, above=True, maximum=MAX_PACING_MINUTES))
RATE_LIMITS_KEY = Key(shape(RATE_LIMITS))


def read_pacing(entry: Fields, problems: Problems) -> dict[str, Any]:
    """The `Notifications` fields for pacing, from the `notifications` mapping."""
    minutes = float(entry.get("failover_after_minutes", DEFAULT_FAILOVER_AFTER_MINUTES))
    if minutes < 1:
        problems.warning(entry.at("failover_after_minutes"),
                         f"{minutes:g} minutes is under one minute",
                         "fine in tests; use whole minutes in production")
    written: Fields | None = entry.get("rate_limits")
    limits: list[RateLimit] = []
    for channel in CONTACT_CHANNELS:
        found: Fields | None = None if written is None else written.get(channel)
        if found is None or "messages" not in found.values or "per_minutes" not in found.values:
            continue  # not written, or its problem was reported already
        limits.append(RateLimit(channel=channel, messages=int(found.get("messages")),
                                per_minutes=float(found.get("per_minutes"))))
    return {"failover_after_minutes": minutes, "rate_limits": tuple(limits)}
