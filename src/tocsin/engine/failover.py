"""Hard failover: a page that failed for good brings the person's next rule forward.

A person's notification rules queue one delivery per channel with its own
delay (alerts.paging). When one of them fails for good, waiting out the
next rule's delay would leave the person unpaged for no reason, so the
earliest of their still-waiting deliveries for the same alert and step is
made due at once. The engine sends it in the same pass.

A page that has not delivered `notifications.failover_after_minutes` after
it became due fails over the same way while it goes on retrying
(engine.overdue). Either way a page fails over once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.paging import CONSOLE
from tocsin.alerts.service import add_timeline
from tocsin.alerts.store import Alert
from tocsin.logs import event
from tocsin.notify import store as outbox

log = logging.getLogger(__name__)


def fail_over(
    session: Session, *, alert: Alert, failed: outbox.Delivery, user_name: str, now: datetime,
    late: timedelta | None = None,
) -> outbox.Delivery | None:
    """Make the next waiting delivery for this person due now; None when there is none.

    `late`: the page has not delivered for that long (it is not failed). A page
    that failed over before (late, then failed for good) does not again.
    """
    if failed.channel == CONSOLE or failed.failed_over_at is not None:
        return None
    failed.failed_over_at = now
    waiting = (
        select(outbox.Delivery)
        .where(
            outbox.Delivery.alert_id == failed.alert_id,
            outbox.Delivery.user_id == failed.user_id,
            outbox.Delivery.step == failed.step,
            outbox.Delivery.id != failed.id,
            outbox.Delivery.channel != CONSOLE,
            outbox.Delivery.status == outbox.QUEUED,
            outbox.Delivery.attempts == 0,
            outbox.Delivery.due_at > now,
        )
        .order_by(outbox.Delivery.due_at, outbox.Delivery.id)
        .limit(1)
    )
    following = session.scalars(waiting).first()
    if following is None:
        return None
    early = following.due_at - now
    following.due_at = now
    following.first_due_at = now
    what = (f"{failed.channel} failed for {user_name}" if late is None else
            f"{failed.channel} has not delivered to {user_name} for "
            f"{late.total_seconds() / 60:g} minutes")
    add_timeline(session, alert, kind="failover", now=now,
                 message=f"{what}; {following.channel} goes "
                         f"now instead of in {early.total_seconds() / 60:g} minutes",
                 data={"user": failed.user_id, "failed_delivery_id": failed.id,
                       "delivery_id": following.id, "channel": following.channel})
    event(log, "delivery.failed_over", delivery_id=following.id, failed_delivery_id=failed.id,
          alert_id=alert.id, user=failed.user_id, channel=following.channel,
          reason="failed" if late is None else "late")
    return following
