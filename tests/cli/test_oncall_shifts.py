"""`tocsin oncall` and `tocsin shifts`, answered from the file alone.

Expected people and times are worked out here from the rotation definition
(the example file's YAML read directly, or by hand for the DST file), not
through Tocsin's own rotation code.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from typer.testing import CliRunner

from tocsin.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "tocsin.yaml")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

# New York springs forward on 2026-03-08 (02:00 -> 03:00) and falls back on
# 2026-11-01 (02:00 -> 01:00).
NEW_YORK = """
    timezone: UTC
    users:
      - {id: ann, email: ann@example.test, name: Ann}
      - {id: ben, email: ben@example.test, name: Ben}
    schedules:
      - name: mornings
        timezone: America/New_York
        rotation: daily
        start_time: "09:00"
        start_date: 2026-03-01
        participants: [ann, ben]
      - name: night
        timezone: America/New_York
        rotation: daily
        start_time: "02:30"
        start_date: 2026-03-05
        participants: [ann@example.test, ben@example.test]
      - name: later
        timezone: America/New_York
        rotation: weekly
        start_day: monday
        start_date: 2030-01-07
        participants: [ann]
"""


def _tocsin(*args: str, **env: str) -> Any:
    result = CliRunner().invoke(app, list(args), env=env or None)
    return result


def _json(*args: str) -> dict[str, Any]:
    result = _tocsin(*args, "--json")
    assert result.exit_code == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


@pytest.fixture
def new_york(tmp_path: Path) -> str:
    path = tmp_path / "new-york.yaml"
    path.write_text(textwrap.dedent(NEW_YORK), encoding="utf-8")
    return str(path)


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expected(name: str, at: datetime) -> dict[str, Any]:
    """The example schedule's shift holding `at`, from the file's own words."""
    data = yaml.safe_load(Path(EXAMPLE).read_text(encoding="utf-8"))
    schedule = next(s for s in data["schedules"] if s["name"] == name)
    users = {u["email"]: u for u in data["users"]}
    zone = ZoneInfo(schedule["timezone"])
    first_day: date = schedule.get("start_date", date(1970, 1, 5))
    first_day += timedelta(days=(WEEKDAYS.index(schedule["start_day"]) - first_day.weekday()) % 7)
    hand_off = time.fromisoformat(schedule["start_time"])

    def start_of(week: int) -> datetime:
        # Wall-clock arithmetic: the same local time each week.
        return datetime.combine(first_day + timedelta(weeks=week), hand_off, tzinfo=zone)

    week = (at - start_of(0)) // timedelta(weeks=1)  # a first guess, exact without DST
    while start_of(week) > at:
        week -= 1
    while start_of(week + 1) <= at:
        week += 1
    person = users[schedule["participants"][week % len(schedule["participants"])]]
    return {"user": person["id"], "email": person["email"], "start": _z(start_of(week)),
            "end": _z(start_of(week + 1)), "source": "rotation"}


def _expected_primary(at: datetime) -> dict[str, Any]:
    return _expected("primary-oncall", at)


def test_oncall_json_has_the_documented_shape():
    found = _json("oncall", "primary-oncall", "--at", "2026-03-04T12:00:00Z",
                  "--config", EXAMPLE)

    assert found == {
        "schedule": "primary-oncall", "timezone": "Asia/Bangkok", "at": "2026-03-04T12:00:00Z",
        "oncall": [_expected_primary(datetime(2026, 3, 4, 12, tzinfo=UTC))],
    }
    assert found["oncall"][0]["user"] == "alice"


@pytest.mark.parametrize("at", [
    "2026-01-05T01:59:59Z",  # a second before the very first shift
    "2026-03-02T01:59:59Z",  # the last second of a shift
    "2026-03-02T02:00:00Z",  # the handoff itself (09:00 in Bangkok)
    "2026-03-10T00:00:00Z",
    "2026-06-15T12:00:00+02:00",
    "2027-02-01T02:00:00Z",
])
def test_oncall_names_the_person_the_rotation_says(at):
    when = datetime.fromisoformat(at.replace("Z", "+00:00"))

    found = _json("oncall", "primary-oncall", "--at", at, "--config", EXAMPLE)

    expected = [] if when < datetime(2026, 1, 5, 2, tzinfo=UTC) else [_expected_primary(when)]
    assert found["at"] == _z(when)
    assert found["oncall"] == expected


@pytest.mark.parametrize("at", ["2026-03-04T12:00:00Z", "2026-03-09T02:00:00Z"])
def test_a_schedule_without_start_date_is_anchored_in_1970(at):
    when = datetime.fromisoformat(at.replace("Z", "+00:00"))

    found = _json("oncall", "secondary-oncall", "--at", at, "--config", EXAMPLE)

    assert found["oncall"] == [_expected("secondary-oncall", when)]


@pytest.mark.parametrize(("local", "utc", "who"), [
    ("2026-03-09T08:59", "2026-03-09T01:59:00Z", "alice"),
    ("2026-03-09T09:00", "2026-03-09T02:00:00Z", "bob"),
    ("2026-03-09", "2026-03-08T17:00:00Z", "alice"),  # a date alone is 00:00 local
])
def test_a_time_without_offset_is_the_schedules_local_time(local, utc, who):
    found = _json("oncall", "primary-oncall", "--at", local, "--config", EXAMPLE)

    assert found["at"] == utc
    assert [shift["user"] for shift in found["oncall"]] == [who]


def test_without_json_oncall_prints_a_table_in_local_time():
    result = _tocsin("oncall", "primary-oncall", "--at", "2026-03-04T12:00:00Z",
                     "--config", EXAMPLE)

    assert result.exit_code == 0
    assert "Alice" in result.stdout
    assert "Mon 2026-03-02 09:00" in result.stdout
    assert "Mon 2026-03-09 09:00" in result.stdout


def test_an_unknown_schedule_exits_1_and_says_which_exist():
    result = _tocsin("oncall", "tertiary-oncall", "--json", "--config", EXAMPLE)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "tertiary-oncall" in result.stderr
    assert "primary-oncall" in result.stderr


@pytest.mark.parametrize("args", [
    ["oncall", "primary-oncall", "--at", "next tuesday"],
    ["shifts", "primary-oncall", "--from", "2026-03-10", "--to", "2026-03-03"],
])
def test_an_unusable_time_is_a_usage_error(args):
    result = _tocsin(*args, "--config", EXAMPLE)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--at" in result.stderr or "--to" in result.stderr


def test_nobody_on_call_is_exit_0_and_an_empty_list(new_york):
    found = _json("oncall", "later", "--at", "2026-06-01T12:00:00Z", "--config", new_york)

    assert found["oncall"] == []


def test_oncall_and_shifts_answer_from_the_file_without_a_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "elsewhere.db"

    oncall = _tocsin("oncall", "primary-oncall", "--config", EXAMPLE, "--json")
    shifts = _tocsin("shifts", "primary-oncall", "--from", "2026-03-02", "--to", "2026-03-03",
                     "--config", EXAMPLE, "--db", f"sqlite:///{missing}")
    by_env = _tocsin("oncall", "primary-oncall", "--config", EXAMPLE,
                     TOCSIN_DATABASE_URL=f"sqlite:///{missing}")

    assert (oncall.exit_code, shifts.exit_code, by_env.exit_code) == (0, 0, 0)
    assert json.loads(oncall.stdout)["oncall"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- shifts -------------------------------------------------------------------------


def _shifts(*args: str) -> list[tuple[str, str, str]]:
    found = _json("shifts", *args)
    return [(s["user"], s["start"], s["end"]) for s in found["shifts"]]


def test_shifts_json_has_the_documented_shape():
    found = _json("shifts", "primary-oncall", "--from", "2026-03-04T00:00:00Z",
                  "--to", "2026-03-10T00:00:00Z", "--config", EXAMPLE)

    assert found == {
        "schedule": "primary-oncall", "timezone": "Asia/Bangkok",
        "from": "2026-03-04T00:00:00Z", "to": "2026-03-10T00:00:00Z",
        "shifts": [_expected_primary(datetime(2026, 3, 4, tzinfo=UTC)),
                   _expected_primary(datetime(2026, 3, 10, tzinfo=UTC))],
    }


@pytest.mark.parametrize(("start", "end", "who"), [
    # --to exactly at the 09:00 Bangkok handoff: bob's shift is not in the range.
    ("2026-03-04T00:00:00Z", "2026-03-09T02:00:00Z", ["alice"]),
    ("2026-03-04T00:00:00Z", "2026-03-09T02:00:01Z", ["alice", "bob"]),
    # --from exactly at the handoff: alice's shift ended there.
    ("2026-03-09T02:00:00Z", "2026-03-09T03:00:00Z", ["bob"]),
    ("2026-03-09T01:59:59Z", "2026-03-09T02:00:00Z", ["alice"]),
])
def test_shifts_to_is_exclusive_and_shifts_are_whole(start, end, who):
    found = _shifts("primary-oncall", "--from", start, "--to", end, "--config", EXAMPLE)

    assert [user for user, _start, _end in found] == who
    for _user, shift_start, shift_end in found:
        begins = datetime.fromisoformat(shift_start.replace("Z", "+00:00"))
        ends = datetime.fromisoformat(shift_end.replace("Z", "+00:00"))
        assert ends - begins == timedelta(weeks=1)


def test_shifts_across_spring_forward_hand_off_at_local_nine(new_york):
    # 09:00 EST is 14:00Z; from 2026-03-08 on, 09:00 EDT is 13:00Z.
    # Ann's turn is every even day counted from 2026-03-01, Ben's every odd one.
    found = _shifts("mornings", "--from", "2026-03-07T12:00", "--to", "2026-03-09T08:00",
                    "--config", new_york)

    assert found == [
        ("ann", "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"),  # a 23-hour day
        ("ben", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"),
    ]


def test_shifts_across_fall_back_last_25_hours(new_york):
    # 09:00 EDT is 13:00Z; from 2026-11-01 on, 09:00 EST is 14:00Z.
    found = _shifts("mornings", "--from", "2026-11-01T00:00", "--to", "2026-11-01T23:00",
                    "--config", new_york)

    assert [(start, end) for _user, start, end in found] == [
        ("2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"),
        ("2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"),
    ]


def test_a_handoff_in_the_spring_gap_happens_when_the_gap_ends(new_york):
    # 02:30 does not exist on 2026-03-08: the handoff is at 03:00 EDT, 07:00Z.
    found = _shifts("night", "--from", "2026-03-08T00:00", "--to", "2026-03-08T12:00",
                    "--config", new_york)

    assert found == [
        ("ann", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z"),
        ("ben", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"),
    ]


@pytest.mark.parametrize(("local", "utc"), [
    ("2026-03-08T02:30", "2026-03-08T07:00:00Z"),  # in the gap: its end, 03:00 EDT
    ("2026-11-01T01:30", "2026-11-01T05:30:00Z"),  # repeated: the first, still EDT
])
def test_at_a_local_time_that_dst_skips_or_repeats(new_york, local, utc):
    found = _json("oncall", "night", "--at", local, "--config", new_york)

    assert found["at"] == utc
    assert found["timezone"] == "America/New_York"
