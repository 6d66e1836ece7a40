"""Calendar feeds: final shifts as an iCalendar (RFC 5545) document.

Pure: the caller hands in the shifts (from `service.final_shifts`, so the
feed never disagrees with the engine), the users and `now`.

Every event is written in UTC. A subscribed calendar shows it in the
reader's own zone; X-WR-TIMEZONE only names the schedule's zone for clients
that display it. Each shift keeps the same UID on every fetch (a hash of
what identifies it), so a client that polls the feed updates its events
instead of adding copies; DTSTAMP is the moment the feed was rendered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress

from tocsin.config.model import User
from tocsin.oncall.rules import Shift

PRODID = "-//Tocsin//On-call calendar feed//EN"
# How far the feed reaches: a week back, so "who had last week" still shows,
# and about three months ahead.
FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=90)
# Clients may poll more often than their default (Google: 8 to 24 hours).
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class FeedEntry:
    """One final shift and the schedule it belongs to."""

    schedule: str
    shift: Shift


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """The range a feed rendered at `now` covers, as UTC instants."""
    now = now.astimezone(UTC)
    return now - FEED_PAST, now + FEED_AHEAD


def shift_uid(schedule: str, shift: Shift) -> str:
    """A UID that stays the same for as long as the shift exists.

    The end is left out on purpose: an override that shortens a shift
    should move the end of the event the reader already has.
    """
    key = "\x1f".join((
        schedule, shift.user, shift.start.astimezone(UTC).isoformat(), shift.source,
    ))
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@tocsin"


def render(
    *, name: str, timezone: str, entries: Iterable[FeedEntry],
    users: Mapping[str, User], now: datetime,
) -> bytes:
    """The feed as bytes: one VEVENT per entry, sorted by start."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    ordered = sorted(entries, key=lambda e: (e.shift.start, e.schedule, e.shift.user))
    for entry in ordered:
        calendar.add_component(_event(entry, users.get(entry.shift.user), now))
    body: bytes = calendar.to_ical()
    return body


def _event(entry: FeedEntry, user: User | None, now: datetime) -> Event:
    shift = entry.shift
    who = user.display if user is not None else shift.user
    event = Event()
    event.add("uid", shift_uid(entry.schedule, shift))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("summary", f"On call: {who} ({entry.schedule})")
    event.add("description", f"Schedule {entry.schedule}, from {_source(shift.source)}.")
    # A week-long shift should not mark the person busy in every free/busy view.
    event.add("transp", "TRANSPARENT")
    if user is not None and user.email:
        attendee = vCalAddress(f"mailto:{user.email}")
        attendee.params["CN"] = who
        event.add("attendee", attendee)
    return event


def _source(source: str) -> str:
    if source.startswith("override:"):
        return "an override"
    return f"layer {source}"
