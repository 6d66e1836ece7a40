"""A user's `notification_rules`: per urgency, which contact to page and when.

The loader has read the shapes (channel names, delays of 0..1440 minutes);
this checks what needs the user's other keys: each rule's channel must be
one of the user's contacts. Rules are kept sorted by delay (a stable sort,
so rules with equal delays keep the file's order).
"""

from __future__ import annotations

from collections.abc import Callable

from tocsin.config.model import NotificationRule
from tocsin.config.schema import Fields, Items, Problems, Spot

CheckChannel = Callable[[str, Spot, str], None]


def read_notification_rules(
    entry: Fields, contacts: dict[str, str], problems: Problems, check_channel: CheckChannel,
) -> dict[str, tuple[NotificationRule, ...]]:
    written: Fields | None = entry.get("notification_rules")
    if written is None:
        return {}
    found: dict[str, tuple[NotificationRule, ...]] = {}
    for urgency in ("high", "low"):
        items: Items | None = written.get(urgency)
        if items is None:
            continue
        rules = [rule for fields in items.values
                 if (rule := _rule(fields, contacts, problems, check_channel))]
        found[urgency] = tuple(sorted(rules, key=lambda rule: rule.after_minutes))
    return found


def _rule(
    fields: Fields, contacts: dict[str, str], problems: Problems,
    check_channel: CheckChannel,
) -> NotificationRule | None:
    channel: str | None = fields.get("channel")
    if channel is None:
        return None
    where = fields.at("channel")
    if channel not in contacts:
        have = ", ".join(contacts) or "none yet"
        problems.error(where, f"'{channel}' is not one of this user's contacts",
                       f"add contacts.{channel}, or use a contact the user has ({have})")
        return None
    check_channel(channel, where, "rules on this channel")
    minutes = float(fields.get("after_minutes", 0))
    if 0 < minutes < 1:
        problems.warning(fields.at("after_minutes"), f"{minutes:g} minutes is under one minute",
                         "fine in tests; use whole minutes in production")
    return NotificationRule(channel=channel, after_minutes=minutes)
