"""Direct paging: a person opens a normal alert for a user, schedule or policy.

The alert's integration is `direct` and its dedup key is unique per page,
so two pages never merge. Its target is stored as the alert's responders,
so the escalation runs exactly like an alert whose sender named them.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.alerts import responders
from tocsin.alerts.service import add_timeline
from tocsin.alerts.store import TRIGGERED, Alert
from tocsin.config.model import Target
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.escalation import store as timers
from tocsin.logs import event

log = logging.getLogger(__name__)

INTEGRATION = "direct"
URGENCIES = ("high", "low")


def page(session: Session, *, target: Target, title: str, actor: str, surface: str,
         now: datetime, description: str | None = None, urgency: str = "high") -> Alert:
    """Open a triggered alert for `target`; its first step is due now."""
    problems = []
    if not title.strip():
        problems.append(FieldProblem("title", "give a short message saying what is wrong"))
    if urgency not in URGENCIES:
        problems.append(FieldProblem("urgency", "use high or low"))
    if problems:
        raise InvalidInput("the page is incomplete", problems)
    key = f"page-{uuid.uuid4().hex}"
    alert = Alert(
        integration=INTEGRATION, dedup_key=key, open_key=key, status=TRIGGERED,
        title=title.strip(), description=description, urgency=urgency, labels={},
        details={"paged_by": actor}, triggered_at=now, last_event_at=now, event_count=1,
        step=-1, pass_number=0, responders=responders.to_json([target]),
        policy=responders.policy_name([target]), source=f"{surface}:{actor}",
    )
    session.add(alert)
    session.flush()
    noun = target.kind.replace("_", " ")
    audit.record(session, now=now, actor=actor, surface=surface, action="alert.page",
                 object_type="alert", object_id=alert.id, before=None,
                 after={"status": TRIGGERED, "target": {target.kind: target.name}})
    add_timeline(session, alert, kind="triggered", now=now, actor=actor, surface=surface,
                 message=f"paged {noun} {target.name} directly by {actor} via {surface}: "
                         f"{alert.title}", data={"target": {target.kind: target.name}})
    event(log, "alert.paged_directly", alert_id=alert.id, actor=actor, surface=surface,
          target_kind=target.kind, target=target.name)
    timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=now, now=now)
    return alert
