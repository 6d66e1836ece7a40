"""A provider saying later that a page it accepted never arrived.

Twilio answers a send at once, and reports afterwards that a text was
undelivered or a call went unanswered. Such a report turns the sent
delivery into a failed one, and `delivery_failed` decides what happens next:
the same failover as a send that failed outright.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.service import add_timeline, paging_fallback
from tocsin.alerts.store import TRIGGERED, Alert
from tocsin.config.model import Config
from tocsin.engine.delivery import nothing_else_reaches
from tocsin.engine.failover import fail_over
from tocsin.logs import event
from tocsin.notify import store as outbox

log = logging.getLogger(__name__)


def find_delivery(session: Session, *, delivery_id: int | None,
                  provider_id: str | None) -> outbox.Delivery | None:
    """The delivery a callback names: by id from its URL, else by the provider's SID."""
    if delivery_id is not None:
        return session.get(outbox.Delivery, delivery_id)
    if not provider_id:
        return None
    query = select(outbox.Delivery).where(outbox.Delivery.provider_id == provider_id)
    return session.scalars(query.limit(1)).first()


def provider_failed(session: Session, *, config: Config, delivery: outbox.Delivery,
                    detail: str, now: datetime) -> bool:
    """Mark a sent delivery failed on the provider's word; False when it was not sent.

    The caller owns the transaction. Only a `sent` delivery changes: a report
    arriving twice, or for a page already cancelled, does nothing.
    """
    alert = session.get(Alert, delivery.alert_id, with_for_update=True)
    session.refresh(delivery)
    if delivery.status != outbox.SENT:
        return False
    delivery.status = outbox.FAILED
    delivery.detail = detail
    delivery.finished_at = now
    session.add(outbox.DeliveryAttempt(delivery_id=delivery.id, at=now, ok=False, detail=detail))
    event(log, "delivery.provider_failed", delivery_id=delivery.id, alert_id=delivery.alert_id,
          user=delivery.user_id, channel=delivery.channel, detail=detail)
    if alert is not None:
        delivery_failed(session, config=config, alert=alert, delivery=delivery, now=now)
    return True


def delivery_failed(session: Session, *, config: Config, alert: Alert,
                    delivery: outbox.Delivery, now: datetime) -> None:
    """What follows a page that did not arrive: a timeline entry, and the failover.

    As for a send that failed outright (engine.delivery): the person's next
    notification rule goes at once, and the fallback contacts are paged
    when nothing else of this step still reaches the person.
    """
    user = config.users.get(delivery.user_id)
    name = user.display if user else delivery.user_id
    add_timeline(session, alert, kind="notification", now=now,
                 message=f"could not notify {name} via {delivery.channel}: {delivery.detail}",
                 data={"user": delivery.user_id, "channel": delivery.channel,
                       "status": outbox.FAILED, "delivery_id": delivery.id})
    if alert.status != TRIGGERED:
        return
    fail_over(session, alert=alert, failed=delivery, user_name=name, now=now)
    if nothing_else_reaches(session, delivery):
        paging_fallback(session, config=config, alert=alert, now=now,
                        why=f"no channel could deliver the page to {name}",
                        reason="undeliverable")
