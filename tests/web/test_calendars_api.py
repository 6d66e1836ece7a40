"""Calendar feeds over HTTP: capability URLs, the listing API, and what a client parses."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from tests.web.conftest import PUBLIC_URL, READ_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock
from tocsin.logs import RedactingFilter
from tocsin.oncall import service
from tocsin.oncall.calendar import feed_window
from tocsin.oncall.store import ScheduleOverride

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, email: alice@example.com, timezone: Asia/Bangkok}
  - {id: bob, name: Bob, timezone: America/New_York}
  - {id: carol, name: Carol}
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
  - name: nyc
    timezone: America/New_York
    rotation: daily
    start_time: "09:00"
    start_date: 2026-03-01
    participants: [bob, carol]
api_tokens:
  - {name: reader, token: read-token-1a2b3c4d, user: carol, scope: read}
"""


@pytest.fixture
def cal(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG)
    yield made
    close_web(made)


def listing(web: Web) -> dict:
    response = web.call("GET", "/api/v1/calendars", READ_TOKEN)
    assert response.status_code == 200, response.text
    return response.json()


def feed_url(web: Web, kind: str, name: str) -> str:
    for item in listing(web)[kind + "s"]:
        if item[kind] == name:
            return item["url"]
    raise AssertionError(f"no feed for {kind} {name}")


def fetch(web: Web, url: str) -> icalendar.Calendar:
    response = web.client.get(url.removeprefix(PUBLIC_URL))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def spans(calendar: icalendar.Calendar) -> list[tuple[datetime, datetime]]:
    return [(e.decoded("dtstart"), e.decoded("dtend")) for e in calendar.walk("VEVENT")]


def expected(web: Web, schedule: str, user: str | None = None) -> list[tuple[datetime, datetime]]:
    config = web.runtime.config_now()
    start, end = feed_window(web.clock.now())
    with web.runtime.sessions() as session:
        found = service.final_shifts(session, config.schedules[schedule], start, end)
    return [(s.start, s.end) for s in found if user is None or s.user == user]


def test_the_listing_needs_a_token(cal: Web):
    response = cal.client.get("/api/v1/calendars")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_the_listing_names_a_feed_for_every_schedule_and_user(cal: Web):
    found = listing(cal)

    assert [item["schedule"] for item in found["schedules"]] == ["nyc", "primary"]
    assert [item["user"] for item in found["users"]] == ["alice", "bob", "carol"]
    for item in found["schedules"] + found["users"]:
        assert item["url"].startswith(f"{PUBLIC_URL}/calendars/")
        assert item["url"].endswith(".ics")
        token = item["url"].removeprefix(f"{PUBLIC_URL}/calendars/").removesuffix(".ics")
        assert len(token) >= 32
        assert item["webcal"] == "webcal://" + item["url"].removeprefix("http://")
    urls = [item["url"] for item in found["schedules"] + found["users"]]
    assert len(set(urls)) == len(urls)


def test_a_schedule_feed_holds_the_final_shifts_in_utc(cal: Web):
    calendar = fetch(cal, feed_url(cal, "schedule", "nyc"))

    assert spans(calendar) == expected(cal, "nyc")
    assert len(spans(calendar)) > 90
    assert str(calendar["x-wr-timezone"]) == "America/New_York"
    # New York springs forward on 2026-03-08: the 09:00 handoff moves to 13:00Z.
    assert (datetime(2026, 3, 7, 14, tzinfo=UTC), datetime(2026, 3, 8, 13, tzinfo=UTC)) in (
        spans(calendar))


def test_uids_stay_the_same_from_one_request_to_the_next(cal: Web):
    url = feed_url(cal, "schedule", "primary")

    first = fetch(cal, url)
    cal.clock.advance(minutes=30)
    second = fetch(cal, url)

    first_uids = [str(e["uid"]) for e in first.walk("VEVENT")]
    assert first_uids == [str(e["uid"]) for e in second.walk("VEVENT")]
    assert len(set(first_uids)) == len(first_uids)
    stamps = {e.decoded("dtstamp") for e in second.walk("VEVENT")}
    assert stamps == {cal.clock.now()}


def test_a_user_feed_holds_their_shifts_from_every_schedule(cal: Web):
    calendar = fetch(cal, feed_url(cal, "user", "bob"))

    want = sorted(expected(cal, "primary", "bob") + expected(cal, "nyc", "bob"))
    assert spans(calendar) == want
    summaries = {str(e["summary"]) for e in calendar.walk("VEVENT")}
    assert summaries == {"On call: Bob (primary)", "On call: Bob (nyc)"}
    assert str(calendar["x-wr-timezone"]) == "America/New_York"


def test_the_attendee_is_the_person_paged(cal: Web):
    calendar = fetch(cal, feed_url(cal, "user", "alice"))

    (first, *_rest) = calendar.walk("VEVENT")
    assert str(first["summary"]) == "On call: Alice (primary)"
    assert str(first["attendee"]) == "mailto:alice@example.com"


def test_a_stored_override_shows_in_the_feed(cal: Web):
    start = datetime(2026, 3, 3, tzinfo=UTC)
    with cal.runtime.sessions() as session:
        session.add(ScheduleOverride(
            schedule="primary", user_id="carol", kind="whole", replaces=None,
            start_at=start, end_at=start + timedelta(days=1), created_at=cal.clock.now(),
            created_by="test", surface="api"))
        session.commit()

    calendar = fetch(cal, feed_url(cal, "schedule", "primary"))

    assert (start, start + timedelta(days=1)) in spans(calendar)
    assert "On call: Carol (primary)" in {str(e["summary"]) for e in calendar.walk("VEVENT")}
    assert spans(calendar) == expected(cal, "primary")


@pytest.mark.parametrize("path", [
    "/calendars/not-a-token.ics",
    "/calendars/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
])  # fmt: skip
def test_a_wrong_token_is_a_plain_404(cal: Web, path: str):
    response = cal.client.get(path)

    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "schedule" not in message and "user" not in message


def test_a_token_one_character_off_is_404(cal: Web):
    url = feed_url(cal, "schedule", "primary")
    token = url.removeprefix(f"{PUBLIC_URL}/calendars/").removesuffix(".ics")
    wrong = ("B" if token[0] == "A" else "A") + token[1:]

    assert cal.client.get(f"/calendars/{wrong}.ics").status_code == 404


def test_feed_urls_survive_a_restart(cal: Web, tmp_path: Path, db_url: str, clock: FakeClock):
    before = listing(cal)
    other = tmp_path / "second"
    other.mkdir()
    again = make_web(other, db_url, clock, CONFIG)
    try:
        assert listing(again) == before
    finally:
        close_web(again)


def test_a_removed_schedule_loses_its_feed(cal: Web):
    url = feed_url(cal, "schedule", "nyc")
    before_nyc, _, rest = CONFIG.partition("  - name: nyc")
    cal.rewrite_config(before_nyc + rest.partition("participants: [bob, carol]\n")[2])
    cal.runtime.config.reload()
    assert "nyc" not in cal.runtime.config_now().schedules

    assert cal.client.get(url.removeprefix(PUBLIC_URL)).status_code == 404


def test_feed_tokens_are_masked_in_the_access_log():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/calendars/s3cr3tT0ken.ics", "1.1", 200),
                               None)

    RedactingFilter().filter(record)

    assert "s3cr3tT0ken" not in record.getMessage()
    assert "/calendars/***.ics" in record.getMessage()
