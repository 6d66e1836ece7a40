"""Action items and issue trackers: a push asked for, its outcome, status coming back.

A push is a queued row (`actions_store.TrackerPush`) the engine sends
(`engine/action_item_trackers`); what comes back is recorded here, on the
item and on its incident's timeline. Status from a tracker moves the item
through the same change as a person's, by the actor `tracker:<name>`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.errors import Conflict, FieldProblem, InvalidInput
from tocsin.incidents import records
from tocsin.logs import event
from tocsin.postmortems import action_rules as rules
from tocsin.postmortems import actions
from tocsin.postmortems import actions_store as store
from tocsin.postmortems.actions import TIMELINE_KIND
from tocsin.postmortems.store import ActionItem

log = logging.getLogger(__name__)

# The most of a tracker's failure kept on the item and its timeline.
MAX_ERROR = 500


def request_push(session: Session, *, config: Config, item_id: int, tracker: str, actor: str,
                 surface: str, now: datetime, admin: bool = False) -> store.TrackerPush:
    """Queue the item's push to a configured tracker; the engine creates the issue."""
    configured = config.trackers.names()
    if tracker not in configured:
        known = ", ".join(configured) if configured else "none is configured under trackers"
        raise InvalidInput(f"no tracker {tracker!r}", [FieldProblem(
            "tracker", f"use a configured tracker ({known})")])
    item = actions.get(session, item_id, viewer=actor, admin=admin, lock=True)
    if item.tracker_key is not None:
        raise Conflict(f"action item {item.id} is already in {item.tracker} as "
                       f"{item.tracker_key}")
    if store.open_push(session, item.id) is not None:
        raise Conflict(f"action item {item.id} is already being pushed")
    push = store.queue_push(session, item_id=item.id, tracker=tracker, requested_by=actor,
                            now=now)
    item.tracker, item.tracker_error, item.updated_at = tracker, None, now
    actions.record_change(
        session, item, actions.incident_of(session, item), action="push_requested",
        text=f"action item #{item.id}: push to {tracker} requested", actor=actor,
        surface=surface, now=now, before={}, after={"tracker": tracker})
    return push


def record_pushed(session: Session, *, item_id: int, tracker: str, key: str, url: str | None,
                  status: str | None, now: datetime) -> None:
    item = session.get(ActionItem, item_id, with_for_update=True)
    if item is None:
        return
    item.tracker, item.tracker_key, item.tracker_url = tracker, key[:200], _web_url(url)
    item.tracker_status, item.synced_at, item.tracker_error = status, now, None
    item.updated_at = now
    records.add_entry(session, actions.incident_of(session, item), kind=TIMELINE_KIND,
                      text=f"action item #{item.id} pushed to {tracker} as {key}",
                      actor=f"tracker:{tracker}", surface="tracker", now=now)
    event(log, "action_item.pushed", item_id=item.id, tracker=tracker, key=key)


def record_tracker_error(session: Session, *, item_id: int, detail: str, now: datetime,
                         gave_up: bool = False) -> None:
    """Keep a failure on the item (capped); `detail` comes with credentials already cut
    out (`notify.trackers.scrub`)."""
    item = session.get(ActionItem, item_id, with_for_update=True)
    if item is None:
        return
    detail = detail[:MAX_ERROR]
    item.tracker_error = detail
    if gave_up and item.tracker_key is None:
        records.add_entry(session, actions.incident_of(session, item), kind=TIMELINE_KIND,
                          text=f"action item #{item.id}: push to {item.tracker} failed: "
                               f"{detail}", actor=f"tracker:{item.tracker}", surface="tracker",
                          now=now)
    event(log, "action_item.tracker_error", item_id=item.id, tracker=item.tracker,
          detail=detail, gave_up=gave_up)


def take_far_status(session: Session, *, config: Config, item_id: int, done: bool, label: str,
                    now: datetime) -> ActionItem | None:
    """Record the tracker's status of a pushed item and move the item when it changed."""
    item = session.get(ActionItem, item_id, with_for_update=True)
    if item is None:
        return None
    was_done = rules.far_is_done(item.tracker_status)
    first_read = item.tracker_status is None
    item.tracker_status, item.synced_at, item.tracker_error = (
        rules.far_status_value(done, label), now, None)
    wanted = None if first_read and not done else rules.status_from_tracker(
        item_status=item.status, was_done=was_done, now_done=done)
    if wanted is not None:
        actions.apply_change(session, config=config, item=item, wanted={"status": wanted},
                             actor=f"tracker:{item.tracker}", surface="tracker", now=now,
                             note=f" ({item.tracker} {item.tracker_key}: {label})")
    return item


def take_webhook_status(session: Session, *, config: Config, item_id: int, status: str,
                        label: str | None, key: str | None, url: str | None, actor: str,
                        now: datetime) -> ActionItem:
    """Status posted back by the receiver of the webhook tracker."""
    problems: list[FieldProblem] = []
    wanted = actions.checked_status(status, problems)
    if problems:
        raise InvalidInput("the status is not valid", problems)
    item = actions.get(session, item_id, viewer=actor, admin=True, lock=True)
    if item.tracker != "webhook":
        raise Conflict(f"action item {item.id} was not pushed to the webhook tracker")
    if key and item.tracker_key is None:
        item.tracker_key, item.tracker_url = key[:200], _web_url(url)
    item.tracker_status = rules.far_status_value(wanted == rules.DONE, label or wanted)
    item.synced_at, item.tracker_error = now, None
    return actions.apply_change(session, config=config, item=item, wanted={"status": wanted},
                                actor=actor, surface="tracker", now=now,
                                note=" (from the webhook tracker)")


def _web_url(url: str | None) -> str | None:
    """Only http(s) links are kept: the far side's answer becomes a link in the UI."""
    return url if url and url.lower().startswith(("https://", "http://")) else None
