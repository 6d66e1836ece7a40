"""Stop the notification rules of a step the escalation has moved on from.

When a policy of the alert starts a later step (or a repeat pass), the
people of its step before are no longer the ones it pages: their rules
still waiting (an SMS after 2 minutes, a call after 5) are cancelled, with
one timeline note naming the policy. Each policy stops only its own: a
delivery records the chain that queued it (None: the alert's own policy; a
further one's name, from a route's `continue` or an added responder), so
the pages of the policies running beside it still go at their time.

Only a config where someone's rule waits (`after_minutes` above 0) can
have such pages, so any other config costs no query here (a mass
escalation of thousands of alerts stays one statement per batch).

Runs inside the caller's session and never commits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.alerts.service import add_timeline
from tocsin.alerts.store import Alert
from tocsin.config.model import Config
from tocsin.logs import event
from tocsin.notify import store as deliveries

log = logging.getLogger(__name__)

# Per loaded config (by identity; a reload makes a new one): does any rule wait?
_DELAYED: dict[int, tuple[Config, bool]] = {}


def stop_waiting(session: Session, *, config: Config, alert: Alert, chain: str | None,
                 label: str, now: datetime) -> int:
    """Cancel the waiting rule pages of the alert's policy `chain` (None: its own) as
    that policy's step `label` starts; how many."""
    if not _rules_wait(config):
        return 0
    stopped = deliveries.waiting_rule_pages(session, alert_id=alert.id, chain=chain, now=now)
    if not stopped:
        return 0
    deliveries.cancel_rows(stopped, now=now, reason=f"escalation moved on to {label}")
    listed = ", ".join(f"{row.user_id} by {row.channel} at {row.due_at:%H:%M} (step {row.step})"
                       for row in stopped[:10])
    more = f" and {len(stopped) - 10} more" if len(stopped) > 10 else ""
    add_timeline(session, alert, kind="rules_stopped", now=now,
                 message=f"{label}: stopped {len(stopped)} waiting notification"
                         f"{'s' if len(stopped) != 1 else ''} of the step before: "
                         f"{listed}{more}",
                 data={"deliveries": [row.id for row in stopped], "chain": chain})
    event(log, "escalation.rules_stopped", alert_id=alert.id, chain=chain,
          deliveries=len(stopped))
    return len(stopped)


def _rules_wait(config: Config) -> bool:
    found = _DELAYED.get(id(config))
    if found is not None and found[0] is config:
        return found[1]
    waits = any(rule.after_minutes > 0 for user in config.users.values()
                for rules in user.notification_rules.values() for rule in rules)
    if len(_DELAYED) >= 8:
        _DELAYED.clear()  # old configs of reloads
    _DELAYED[id(config)] = (config, waits)
    return waits
