"""`maintenance:` in the file: windows read in the config's zone, every mistake named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error, warnings_at
from tocsin.config.model import MaintenanceWindow

WINDOW = """\
maintenance:
  - name: db-upgrade
    services: [payment]
    match: {env: prod}
    match_re: {host: "db-.*"}
    start: 2026-03-02T22:00
    end: 2026-03-03T02:00
    reason: primary database upgrade
"""

SERVICES = """\
services:
  - {name: payment}
"""


def test_a_window_loads_with_its_times_in_the_configs_zone(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, "timezone: Asia/Bangkok\n" + BASE + SERVICES + WINDOW)

    assert warnings == []
    assert config.maintenance == (MaintenanceWindow(
        name="db-upgrade",
        start=datetime(2026, 3, 2, 15, 0, tzinfo=UTC),  # 22:00 at +07:00
        end=datetime(2026, 3, 2, 19, 0, tzinfo=UTC),
        services=("payment",), match={"env": "prod"}, match_re={"host": "db-.*"},
        reason="primary database upgrade",
    ),)
    assert config.maintenance[0].line == line_of(
        "timezone: Asia/Bangkok\n" + BASE + SERVICES + WINDOW, "- name: db-upgrade")


def test_times_with_an_offset_keep_it(tmp_path: Path) -> None:
    text = BASE + WINDOW.replace("2026-03-02T22:00", "2026-03-02T22:00+01:00").replace(
        "2026-03-03T02:00", "2026-03-03T01:00Z").replace("    services: [payment]\n", "")

    config, _warnings = load(tmp_path, text)

    window = config.maintenance[0]
    assert (window.start, window.end) == (datetime(2026, 3, 2, 21, tzinfo=UTC),
                                          datetime(2026, 3, 3, 1, tzinfo=UTC))


def test_no_maintenance_is_an_empty_tuple(tmp_path: Path) -> None:
    config, _warnings = load(tmp_path, BASE)

    assert config.maintenance == ()


def test_a_window_without_matchers_is_refused(tmp_path: Path) -> None:
    text = BASE + "maintenance:\n  - {name: all, start: 2026-03-02, end: 2026-03-03}\n"

    problem = only_error(tmp_path, text)

    assert problem.path == "maintenance[0]"
    assert problem.line == line_of(text, "- {name: all")
    assert "needs at least one matcher" in problem.message
    assert "services: [payment]" in problem.fix


def test_empty_matchers_are_refused(tmp_path: Path) -> None:
    text = BASE + "maintenance:\n  - {name: all, match: {}, start: 2026-03-02, end: 2026-03-03}\n"

    problem = only_error(tmp_path, text)

    assert problem.path == "maintenance[0].match"
    assert "would hold every alert" in problem.message


def test_an_end_not_after_the_start_names_both_in_local_time(tmp_path: Path) -> None:
    text = "timezone: Europe/Berlin\n" + BASE + WINDOW.replace(
        "end: 2026-03-03T02:00", "end: 2026-03-02T21:00").replace("    services: [payment]\n", "")

    problem = only_error(tmp_path, text)

    assert problem.path == "maintenance[0].end"
    assert problem.line == line_of(text, "end: 2026-03-02T21:00")
    assert problem.message == ("end (2026-03-02T21:00+01:00) is not after start "
                               "(2026-03-02T22:00+01:00)")
    assert "config's timezone" in problem.fix


def test_a_window_longer_than_a_year_is_refused(tmp_path: Path) -> None:
    text = BASE + WINDOW.replace("2026-03-03T02:00", "2027-03-05T02:00").replace(
        "    services: [payment]\n", "")

    problem = only_error(tmp_path, text)

    assert problem.path == "maintenance[0].end"
    assert "at most 366" in problem.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = BASE + """\
maintenance:
  - name: twice
    match: {env: prod}
    start: 2026-03-02
    end: 2026-03-03
  - name: twice
    match_re: {host: "db-("}
    start: tomorrow
  - services: []
    end: 2026-03-01
    colour: blue
"""

    found = {(p.path, p.line) for p in errors(tmp_path, text)}

    second = line_of(text, 'match_re: {host: "db-("}') - 1
    assert found == {
        ("maintenance[1].name", second),
        ("maintenance[1].match_re.host", second + 1),
        ("maintenance[1].start", second + 2),
        ("maintenance[1].end", second),  # missing: reported where the entry starts
        ("maintenance[2].name", line_of(text, "- services: []")),
        ("maintenance[2].services", line_of(text, "- services: []")),
        ("maintenance[2].start", line_of(text, "- services: []")),
        ("maintenance[2].colour", line_of(text, "colour: blue")),
    }


def test_an_unknown_service_is_a_warning_not_an_error(tmp_path: Path) -> None:
    text = BASE + SERVICES + WINDOW.replace("services: [payment]", "services: [payment, paymnet]")

    _config, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "maintenance[0].services[1]") == [
        "no service 'paymnet' is defined under services"]


def test_a_time_in_a_dst_gap_moves_to_the_gaps_end(tmp_path: Path) -> None:
    text = "timezone: Europe/Berlin\n" + BASE + WINDOW.replace(
        "2026-03-02T22:00", "2026-03-29T02:30").replace("2026-03-03T02:00", "2026-03-29T05:00")

    config, _warnings = load(tmp_path, text)

    assert config.maintenance[0].start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
