"""What the fake SMS channel of a `Harness` sent: single pages and held bundles, by minute."""

from __future__ import annotations

from tests.support.harness import Harness


def fire(harness: Harness, key: str, **fields: str) -> int:
    """Fire an alert with dedup key `key` and return its id (it must open one)."""
    alert_id = harness.fire(key, **fields)
    assert alert_id is not None
    return alert_id


def texts(harness: Harness) -> list[tuple[float, int]]:
    """(minute, alert id) of every single SMS."""
    fake = harness.channels["sms"]
    return [(minute, page.alert_id) for minute, page in zip(fake.minutes, fake.sent, strict=True)]


def bundles(harness: Harness) -> list[tuple[float, list[int]]]:
    """(minute, alert ids) of every bundled SMS."""
    fake = harness.channels["sms"]
    return [(round((at - fake.start).total_seconds() / 60, 3), sorted(page.alert_ids))
            for at, page in zip(fake.bundle_times, fake.bundles, strict=True)]
