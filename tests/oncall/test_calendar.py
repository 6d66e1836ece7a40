"""Calendar feeds, rendered and parsed back: UTC instants, stable UIDs, who is on call."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import icalendar

from tocsin.config.model import Layer, Schedule, User
from tocsin.oncall.calendar import FEED_AHEAD, FEED_PAST, FeedEntry, feed_window, render
from tocsin.oncall.rules import Shift, shifts

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
USERS = {
    "alice": User("alice", email="alice@example.com", name="Alice"),
    "bob": User("bob", name="Bob"),
}
NEW_YORK = Schedule("nyc", "America/New_York", (
    Layer("daily", ("alice", "bob"), time(9), start_date=date(2026, 3, 1)),
))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def events(body: bytes) -> list[icalendar.Event]:
    return list(parse(body).walk("VEVENT"))


def feed(found: list[Shift], now: datetime = NOW, schedule: str = "nyc") -> bytes:
    return render(name=f"On call: {schedule}", timezone="America/New_York",
                  entries=[FeedEntry(schedule, s) for s in found], users=USERS, now=now)


def test_each_shift_is_one_event_at_its_utc_instants_across_a_dst_change():
    # 2026-03-08: New York springs forward; the 09:00 handoff moves from 14:00Z to 13:00Z.
    found = shifts(NEW_YORK, utc(2026, 3, 6), utc(2026, 3, 10))

    parsed = events(feed(found))

    assert [(e.decoded("dtstart"), e.decoded("dtend")) for e in parsed] == [
        (s.start, s.end) for s in found
    ]
    assert all(e.decoded("dtstart").utcoffset() == timedelta(0) for e in parsed)
    assert (utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)) in [(s.start, s.end) for s in found]


def test_uids_are_stable_across_renders_and_distinct_per_shift():
    found = shifts(NEW_YORK, utc(2026, 3, 1), utc(2026, 3, 15))

    first = events(feed(found))
    later = events(feed(found, now=NOW + timedelta(hours=5)))

    uids = [str(e["uid"]) for e in first]
    assert uids == [str(e["uid"]) for e in later]
    assert len(set(uids)) == len(uids)
    assert [e.decoded("dtstamp") for e in first] == [NOW] * len(first)
    assert [e.decoded("dtstamp") for e in later] == [NOW + timedelta(hours=5)] * len(later)


def test_a_shortened_shift_keeps_its_uid_so_the_event_moves():
    shift = Shift("alice", utc(2026, 3, 2, 14), utc(2026, 3, 3, 14), "rotation")
    shorter = Shift("alice", utc(2026, 3, 2, 14), utc(2026, 3, 3, 2), "rotation")

    (before,) = events(feed([shift]))
    (after,) = events(feed([shorter]))

    assert before["uid"] == after["uid"]
    assert after.decoded("dtend") == utc(2026, 3, 3, 2)


def test_summary_names_the_person_and_schedule_and_the_attendee_has_their_email():
    found = [
        Shift("alice", utc(2026, 3, 2), utc(2026, 3, 3), "rotation"),
        Shift("bob", utc(2026, 3, 3), utc(2026, 3, 4), "override:7"),
    ]

    alice, bob = events(feed(found))

    assert str(alice["summary"]) == "On call: Alice (nyc)"
    assert str(alice["attendee"]) == "mailto:alice@example.com"
    assert alice["attendee"].params["CN"] == "Alice"
    assert str(bob["summary"]) == "On call: Bob (nyc)"
    assert "attendee" not in bob  # no e-mail address to give


def test_an_unknown_user_is_named_by_id():
    (event,) = events(feed([Shift("dave@example.com", utc(2026, 3, 2), utc(2026, 3, 3), "r")]))

    assert str(event["summary"]) == "On call: dave@example.com (nyc)"


def test_the_calendar_names_itself_and_the_schedule_zone():
    calendar = parse(feed([]))

    assert str(calendar["x-wr-calname"]) == "On call: nyc"
    assert str(calendar["x-wr-timezone"]) == "America/New_York"
    assert str(calendar["version"]) == "2.0"
    assert calendar["prodid"]
    assert events(feed([])) == []


def test_the_feed_window_reaches_a_week_back_and_about_three_months_ahead():
    start, end = feed_window(NOW)

    assert (start, end) == (NOW - FEED_PAST, NOW + FEED_AHEAD)
    assert timedelta(days=7) == FEED_PAST
    assert timedelta(days=85) <= FEED_AHEAD <= timedelta(days=95)
