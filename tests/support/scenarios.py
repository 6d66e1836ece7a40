"""Small pieces the schedule scenario tests share."""

from __future__ import annotations

from datetime import UTC, datetime

# A policy whose only step pages whoever the `primary` schedule has on call.
ONE_STEP = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 0}
routes:
  - {notify: critical}
"""


def utc(day: int, hour: int = 0) -> datetime:
    """An instant in March 2026, the month the scenario configs start in."""
    return datetime(2026, 3, day, hour, tzinfo=UTC)
