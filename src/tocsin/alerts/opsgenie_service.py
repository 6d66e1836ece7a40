"""Opsgenie alert API use cases: create, acknowledge, close, each recorded.

Every write leaves a request record (`request_store`) in the caller's
transaction, saying what became of it in Opsgenie's words, so a client
polling the request id gets the same answer on every process. Alerts are
found by alias (the dedup key) or by id, only among the alerts of the
integration whose key made the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import request_store
from tocsin.alerts.opsgenie import ActionRequest, CreateRequest, dedup_key
from tocsin.alerts.request_store import AlertRequest
from tocsin.alerts.service import acknowledge, add_timeline, get_alert, ingest, resolve
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, Alert
from tocsin.config.model import Config, Integration
from tocsin.db import MAX_ID
from tocsin.logs import event

log = logging.getLogger(__name__)

Action = Literal["Acknowledge", "Close"]


@dataclass(frozen=True)
class Done:
    request: AlertRequest
    outcome: str  # as for every source: open, update, acknowledge, resolve or ignore


def create(
    session: Session, *, config: Config, integration: Integration, request: CreateRequest,
    request_id: str, now: datetime,
) -> Done:
    """Open the alert, or raise the count of the open one with its alias."""
    result = ingest(session, config=config, integration=integration, incoming=request.event,
                    now=now)
    assert result.alert_id is not None  # a trigger always opens or updates an alert
    alert = get_alert(session, result.alert_id)
    if result.outcome == "open":
        status = "Created alert"
        if request.responders.notes:
            add_timeline(session, alert, kind="responders", now=now, surface="source",
                         actor=_actor(integration),
                         message="responders named by the sender: "
                         + "; ".join(request.responders.notes))
    else:
        status = f"Alert with this alias is already open; its count is now {alert.event_count}"
    _note(session, alert, integration, request.note, request.user, now)
    row = request_store.record(
        session, request_id=request_id, integration=integration.name, action="Create",
        success=True, status=status, alert_id=alert.id, alias=request.alias, now=now)
    return Done(row, result.outcome)


def act(
    session: Session, *, config: Config, integration: Integration, action: Action,
    identifier: str, identifier_type: str, request: ActionRequest, request_id: str,
    now: datetime,
) -> Done:
    """Acknowledge or close the alert an identifier names, and record what happened."""
    alert = _find(session, integration.name, identifier, identifier_type)
    alias = identifier if identifier_type == "alias" else None
    if alert is None:
        event(log, "alert.event_dropped", integration=integration.name, action=action,
              reason="no such alert")
        row = _record(session, integration, request_id, action, False, "Alert does not exist",
                      None, alias, now)
        return Done(row, "ignore")
    outcome, success, status = _apply(session, config, integration, alert, action, now)
    _note(session, alert, integration, request.note, request.user, now)
    row = _record(session, integration, request_id, action, success, status, alert.id,
                  _alias_of(alert), now)
    return Done(row, outcome)


def find_request(session: Session, *, integration: Integration,
                 request_id: str) -> AlertRequest | None:
    return request_store.find(session, request_id=request_id, integration=integration.name)


def _apply(
    session: Session, config: Config, integration: Integration, alert: Alert, action: Action,
    now: datetime,
) -> tuple[str, bool, str]:
    """The outcome, whether Opsgenie would call it a success, and its words for it."""
    actor = _actor(integration)
    if alert.status == RESOLVED:
        # Closing a closed alert is a no-op; acknowledging one changes nothing and fails.
        _ignored(session, alert, actor, action, "the alert is already closed", now)
        return "ignore", action == "Close", "Alert is already closed"
    if action == "Acknowledge":
        if alert.status == ACKNOWLEDGED:
            _ignored(session, alert, actor, action, "already acknowledged", now)
            return "ignore", True, "Alert is already acknowledged"
        acknowledge(session, config=config, alert_id=alert.id, actor=actor, surface="source",
                    now=now)
        return "acknowledge", True, "Acknowledged alert"
    resolve(session, config=config, alert_id=alert.id, actor=actor, surface="source", now=now)
    return "resolve", True, "Closed alert"


def _find(session: Session, integration: str, identifier: str, kind: str) -> Alert | None:
    query = select(Alert).where(Alert.integration == integration)
    if kind == "alias":
        # The open alert with this alias, or else the latest: an open one is
        # always the latest, since a key reopens only after a resolve.
        query = query.where(Alert.dedup_key == dedup_key(identifier)).order_by(Alert.id.desc())
    else:
        number = identifier.strip()
        if not number.isascii() or not number.isdigit() or not 0 < int(number) <= MAX_ID:
            return None
        query = query.where(Alert.id == int(number))
    return session.scalars(query.limit(1).with_for_update()).first()


def _alias_of(alert: Alert) -> str:
    alias = (alert.details or {}).get("alias")
    return alias if isinstance(alias, str) else alert.dedup_key


def _ignored(
    session: Session, alert: Alert, actor: str, action: Action, why: str, now: datetime,
) -> None:
    # Kept on the alert, as for other sources, so "why did my close do nothing?" has an answer.
    add_timeline(session, alert, kind="event_ignored", now=now, actor=actor, surface="source",
                 message=f"{action.lower()} ignored: {why}")
    event(log, "alert.event_ignored", alert_id=alert.id, reason=why)


def _note(
    session: Session, alert: Alert, integration: Integration, note: str | None,
    user: str | None, now: datetime,
) -> None:
    if not note:
        return
    who = f" (user: {user})" if user else ""
    add_timeline(session, alert, kind="note", now=now, actor=_actor(integration),
                 surface="source", message=note + who, data={"user": user} if user else None)


def _record(
    session: Session, integration: Integration, request_id: str, action: str, success: bool,
    status: str, alert_id: int | None, alias: str | None, now: datetime,
) -> AlertRequest:
    return request_store.record(
        session, request_id=request_id, integration=integration.name, action=action,
        success=success, status=status, alert_id=alert_id, alias=alias, now=now)


def _actor(integration: Integration) -> str:
    return f"integration:{integration.name}"
