"""Flapping alert keys: note each change, flag the key, hold its pages to one a window.

The service calls `note_change` at each change of a key (firing again after
a resolve, a resolve, a severity change) and `recheck` at a repeat of an
alert that is flagged, so the flag clears at the key's next event once the
window holds `changes` or fewer. `first_page_at` says when a new escalation
may start: now, or, while the key flaps and paged lately, one window after
that page (the timer waits; an ack or resolve before then cancels it).

The setting comes from the route that takes the alert (`Route.flapping`,
inherited down the tree), else the file's. Nothing here runs for an alert
whose key never changed, so a storm of new alerts costs no query; a batch
loads what its changes need up front (`prefetch`), in a query or two.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts import flapping_rules as rules
from tocsin.alerts import flapping_store as store
from tocsin.alerts.routes import RouteDecision, decide_route
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.store import RESOLVED, Alert, AlertEvent
from tocsin.config.model import Config, Flapping, Route
from tocsin.logs import event
from tocsin.oncall.rules import format_utc

log = logging.getLogger(__name__)

# What a batch loaded up front, on the session for as long as the batch runs:
# (integration, dedup key) -> the key's row or None (known to have none), and
# -> when the key last paged or None (not within the longest window).
_RECORDS = "tocsin.flapping.records"
_PAGES = "tocsin.flapping.pages"


def setting_for(config: Config, decision: RouteDecision) -> Flapping | None:
    """The setting for an alert taking `decision`: its route's, else the file's."""
    return decision.choice.route.flapping if decision.choice is not None else config.flapping


def setting_now(config: Config, alert: Alert, now: datetime) -> Flapping | None:
    """The setting for `alert` when its route decision is not at hand (a resolve)."""
    if not _routes_differ(config.routes, config.flapping):
        return config.flapping
    decision = decide_route(config, alert.labels, severity=alert.severity,
                            service=alert.service, at=now)
    return setting_for(config, decision)


def note_change(
    session: Session, *, alert: Alert, setting: Flapping | None, now: datetime,
) -> None:
    """Count a change of `alert`'s key at `now`, then flag or clear `alert`."""
    record = _record(session, alert)
    if record is None:
        if setting is None:
            return  # detection off and nothing kept: nothing to count or clear
        record = _new_record(session, alert, now=now)
    record.times = rules.kept([*record.times, now], now=now, setting=setting)
    record.updated_at = now
    _settle(session, record=record, alert=alert, setting=setting, now=now)


def recheck(session: Session, *, config: Config, alert: Alert, now: datetime) -> None:
    """At an event that changes nothing, clear the flag once the window has emptied."""
    if not alert.flapping:
        return
    record = _record(session, alert)
    setting = setting_now(config, alert, now)
    if record is None:  # not expected (a flag is set beside a row); clears the flag
        record = _new_record(session, alert, now=now)
    _settle(session, record=record, alert=alert, setting=setting, now=now)


def first_page_at(
    session: Session, *, alert: Alert, setting: Flapping | None, now: datetime,
) -> datetime:
    """When a new escalation of `alert` starts: now, or a window after its key's last page."""
    if not alert.flapping or setting is None:
        return now
    last = _last_page(session, alert, since=now - timedelta(minutes=setting.minutes))
    due = rules.first_page_at(now=now, last_page=last, minutes=setting.minutes)
    if last is not None and due > now:
        _timeline(session, alert, now=now, kind="page_held",
                  message=f"flapping: the key paged at {format_utc(last)}, so the first page "
                          f"waits until {format_utc(due)}; an ack or resolve before then "
                          "cancels it", data={"until": format_utc(due)})
        event(log, "alert.page_held", alert_id=alert.id, until=format_utc(due))
    return due


def note_page(session: Session, *, alert: Alert, now: datetime) -> None:
    """`alert` paged someone inside this transaction: a batch's loaded last page moves on."""
    known = session.info.get(_PAGES)
    if known is not None:
        known[(alert.integration, alert.dedup_key)] = now


def prefetch(
    session: Session, *, config: Config, integration: str, latest: Mapping[str, Alert],
    events: Sequence[IncomingEvent], now: datetime,
) -> None:
    """Load the rows and last pages a batch's changes will ask for, in a query or two.

    A key with no alert yet has no row (a row is made at a change of an alert
    the key has, and alerts are kept). A key whose events cannot change it
    (repeats at the same severity of an alert that is not flagged) is not
    loaded; should one ask after all, it is looked up on its own.
    """
    records: dict[tuple[str, str], store.KeyChanges | None] = {
        (integration, incoming.dedup_key): None
        for incoming in events if incoming.dedup_key not in latest}
    wanted = sorted({incoming.dedup_key for incoming in events
                     if _may_change(latest.get(incoming.dedup_key), incoming)})
    found = store.records(session, integration, wanted) if wanted else {}
    records.update({(integration, key): found.get(key) for key in wanted})
    session.info[_RECORDS] = records
    since = now - timedelta(minutes=_longest(config))
    pages = store.last_pages(session, integration, sorted(found), since=since) if found else {}
    session.info[_PAGES] = {(integration, key): pages.get(key) for key in found}


def forget(session: Session) -> None:
    """Drop what `prefetch` loaded: it holds for one batch only."""
    session.info.pop(_RECORDS, None)
    session.info.pop(_PAGES, None)


def _may_change(current: Alert | None, incoming: IncomingEvent) -> bool:
    if current is None:
        return False
    return (current.status == RESOLVED or current.flapping or incoming.action == "resolve"
            or (incoming.severity is not None and incoming.severity != current.severity))


def _settle(
    session: Session, *, record: store.KeyChanges, alert: Alert, setting: Flapping | None,
    now: datetime,
) -> None:
    changes = rules.count(record.times, now=now, setting=setting)
    flapping = rules.is_flapping(changes, setting)
    if flapping and setting is not None and not alert.flapping:
        alert.flapping = True
        _timeline(session, alert, now=now, kind="flapping",
                  message=rules.describe(changes, setting),
                  data={"changes": changes, "minutes": setting.minutes})
        event(log, "alert.flapping", alert_id=alert.id, changes=changes,
              minutes=setting.minutes)
    elif not flapping and (alert.flapping or record.flapping):
        alert.flapping = False
        minutes = setting.minutes if setting is not None else None
        _timeline(session, alert, now=now, kind="flapping_ended",
                  message=rules.describe_end(changes, minutes), data={"changes": changes})
        event(log, "alert.flapping_ended", alert_id=alert.id, changes=changes)
    record.flapping = flapping


def _record(session: Session, alert: Alert) -> store.KeyChanges | None:
    key = (alert.integration, alert.dedup_key)
    known = session.info.get(_RECORDS)
    if known is not None and key in known:
        found: store.KeyChanges | None = known[key]
        return found
    return session.get(store.KeyChanges, key)


def _new_record(session: Session, alert: Alert, *, now: datetime) -> store.KeyChanges:
    record = store.KeyChanges(integration=alert.integration, dedup_key=alert.dedup_key,
                              changes=[], flapping=False, updated_at=now)
    session.add(record)
    known = session.info.get(_RECORDS)
    if known is not None:  # a batch's later events of this key must find it
        known[(alert.integration, alert.dedup_key)] = record
    return record


def _last_page(session: Session, alert: Alert, *, since: datetime) -> datetime | None:
    key = (alert.integration, alert.dedup_key)
    known = session.info.get(_PAGES)
    if known is not None and key in known:
        at: datetime | None = known[key]
    else:
        at = store.last_pages(session, alert.integration, [alert.dedup_key],
                              since=since).get(alert.dedup_key)
    return at if at is not None and at >= since else None


def _timeline(
    session: Session, alert: Alert, *, now: datetime, kind: str, message: str,
    data: dict[str, Any],
) -> None:
    # Every column given, as `service.add_timeline` gives them: a batch writes rows
    # of one shape in one statement (`batch.write_added_rows`).
    session.add(AlertEvent(alert_id=alert.id, at=now, kind=kind, actor=None, surface=None,
                           message=message, data=data))


def _routes_differ(routes: Sequence[Route], setting: Flapping | None) -> bool:
    """Whether any route's setting differs from `setting` (the file's)."""
    return any(route.flapping != setting or _routes_differ(route.routes, setting)
               for route in routes)


def _longest(config: Config) -> float:
    """The longest window any alert may have, to bound the last-page lookup."""
    found = [config.flapping.minutes] if config.flapping is not None else []

    def walk(routes: Sequence[Route]) -> None:
        for route in routes:
            if route.flapping is not None:
                found.append(route.flapping.minutes)
            walk(route.routes)

    walk(config.routes)
    return max(found, default=0.0)
