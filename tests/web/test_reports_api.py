"""Reports over HTTP: on-call load per person and coverage gaps of a schedule.

The fake clock reads Monday 2026-03-02 03:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.web.conftest import READ_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock
from tocsin.oncall.store import ScheduleOverride

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, timezone: Asia/Bangkok}
  - {id: bob, name: Bob, timezone: America/New_York}
  - {id: carol, name: Carol}
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, carol]
  - name: nyc
    timezone: America/New_York
    rotation: daily
    start_time: "00:00"
    start_date: 2026-03-01
    participants: [bob]
  - name: office
    rotation: daily
    start_time: "09:00"
    start_date: 2026-03-02
    participants: [carol]
    restrictions:
      - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
  - name: later
    timezone: Asia/Bangkok
    rotation: weekly
    start_day: monday
    start_time: "09:00"
    start_date: 2026-03-09
    participants: [alice]
api_tokens:
  - {name: reader, token: read-token-1a2b3c4d, user: carol, scope: read}
"""


@pytest.fixture
def rep(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG)
    yield made
    close_web(made)


def load(web: Web, start: str, end: str) -> dict[str, dict]:
    response = web.call("GET", "/api/v1/reports/oncall-load", READ_TOKEN,
                        params={"from": start, "to": end})
    assert response.status_code == 200, response.text
    return {item["user"]: item for item in response.json()["users"]}


def gaps(web: Web, schedule: str) -> dict:
    response = web.call("GET", f"/api/v1/schedules/{schedule}/gaps", READ_TOKEN)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("path", [
    "/api/v1/reports/oncall-load?from=2026-03-02&to=2026-03-03",
    "/api/v1/schedules/primary/gaps",
])  # fmt: skip
def test_reports_need_a_token(rep: Web, path: str):
    response = rep.client.get(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_load_is_split_on_each_persons_own_clock(rep: Web):
    # Alice holds primary all day Monday (UTC): 07:00 Monday to 07:00 Tuesday in Bangkok.
    found = load(rep, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")

    assert found["alice"]["timezone"] == "Asia/Bangkok"
    assert found["alice"]["hours"] == {"on_call": 24, "business": 10, "off": 14, "sleep": 10}
    assert found["carol"]["hours"]["on_call"] == 8  # office hours only


@pytest.mark.parametrize(("start", "end", "length"), [
    ("2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23),
    ("2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25),
])  # fmt: skip
def test_a_dst_day_is_counted_in_real_hours(rep: Web, start: str, end: str, length: int):
    found = load(rep, start, end)

    assert found["bob"]["hours"]["on_call"] == length
    assert found["bob"]["hours"]["business"] == 0  # both are Sundays
    assert found["bob"]["hours"]["off"] == length


def test_the_report_says_which_working_hours_it_used(rep: Web):
    response = rep.call("GET", "/api/v1/reports/oncall-load", READ_TOKEN,
                        params={"from": "2026-03-02", "to": "2026-03-03"})

    body = response.json()
    assert body["from"] == "2026-03-02T00:00:00Z"
    assert body["working_hours"] == {"business": "08:00-18:00", "sleep": "22:00-08:00",
                                     "days": ["mon", "tue", "wed", "thu", "fri"]}


def test_the_configs_working_hours_classify_the_load(tmp_path: Path, db_url: str,
                                                     clock: FakeClock):
    custom = ('timezone: UTC\nworking_hours: {business: "07:00-19:00", sleep: "23:00-07:00", '
              "days: [mon, sat]}\n")
    web = make_web(tmp_path, db_url, clock, CONFIG.replace("timezone: UTC\n", custom, 1))
    try:
        response = web.call("GET", "/api/v1/reports/oncall-load", READ_TOKEN,
                            params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"})
    finally:
        close_web(web)

    body = response.json()
    assert body["working_hours"] == {"business": "07:00-19:00", "sleep": "23:00-07:00",
                                     "days": ["mon", "sat"]}
    # Alice holds 07:00 Monday to 07:00 Tuesday, Bangkok time.
    alice = next(item for item in body["users"] if item["user"] == "alice")
    assert alice["hours"] == {"on_call": 24, "business": 12, "off": 12, "sleep": 8}


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "yesterday", "to": "2026-03-03"}, "from"),
    ({"from": "2026-03-03", "to": "2026-03-02"}, "to"),
    ({"from": "2026-01-01", "to": "2027-06-01"}, "to"),
    ({"from": "2026-03-02"}, "query.to"),
])  # fmt: skip
def test_a_bad_range_is_400_naming_the_field(rep: Web, params: dict, field: str):
    response = rep.call("GET", "/api/v1/reports/oncall-load", READ_TOKEN, params=params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in [f["path"] for f in error["fields"]]


def test_a_restricted_schedule_reports_its_gaps(rep: Web):
    body = gaps(rep, "office")

    assert (body["from"], body["to"]) == ("2026-03-02T03:00:00Z", "2026-03-16T03:00:00Z")
    assert body["gaps"][0] == {"start": "2026-03-02T03:00:00Z", "end": "2026-03-02T09:00:00Z",
                               "hours": 6}
    assert {"start": "2026-03-06T17:00:00Z", "end": "2026-03-09T09:00:00Z",
            "hours": 64} in body["gaps"]
    assert len(body["gaps"]) == 11


def test_a_schedule_that_starts_later_is_a_gap_until_it_starts(rep: Web):
    body = gaps(rep, "later")

    assert body["timezone"] == "Asia/Bangkok"
    assert body["gaps"] == [
        {"start": "2026-03-02T03:00:00Z", "end": "2026-03-09T02:00:00Z", "hours": 167},
    ]


def test_a_fully_covered_schedule_has_no_gaps(rep: Web):
    assert gaps(rep, "primary")["gaps"] == []


def test_a_stored_override_fills_a_gap(rep: Web):
    with rep.runtime.sessions() as session:
        session.add(ScheduleOverride(
            schedule="later", user_id="carol", kind="whole", replaces=None,
            start_at=datetime(2026, 3, 2, tzinfo=UTC), end_at=datetime(2026, 3, 9, 2, tzinfo=UTC),
            created_at=rep.clock.now(), created_by="test", surface="api"))
        session.commit()

    assert gaps(rep, "later")["gaps"] == []


def test_gaps_of_an_unknown_schedule_are_404(rep: Web):
    response = rep.call("GET", "/api/v1/schedules/nope/gaps", READ_TOKEN)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
