"""A key that keeps firing and resolving flaps: it pages at most once per window.

The fake clock starts on Monday 2026-03-02 at 03:00 UTC, when alice holds
`primary` and carol `secondary`. Every change stays on the timelines; a
page held for a flapping key goes out at the window's end unless the alert
was acknowledged or resolved first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.harness import Harness
from tocsin.logs import record_fields

Make = Callable[[str], Harness]

ONE_STEP = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 0}
  - name: quiet
    steps:
      - {targets: [secondary], timeout_minutes: 0}
"""
ROUTES = ONE_STEP + """
routes:
  - {notify: critical}
"""


def flip(harness: Harness, key: str, *, until: int, **fields: Any) -> list[int]:
    """Fire `key` now and on every even minute to `until`, resolve it on the odd ones.

    Minutes count from the harness's start, as `paged()` does. Returns the
    ids of the alerts opened, oldest first.
    """
    opened: list[int] = []
    while True:
        minute = _minute(harness)
        if minute % 2 == 0:
            alert_id = harness.fire(key, **fields)
            assert alert_id is not None
            if alert_id not in opened:
                opened.append(alert_id)
        else:
            harness.fire(key, action="resolve")
        if minute >= until:
            return opened
        harness.advance(1)


def _minute(harness: Harness) -> int:
    elapsed = harness.clock.now() - harness.channels["webhook"].start
    return round(elapsed.total_seconds() / 60)


def jump(harness: Harness, minutes: float) -> None:
    """Move the clock in one step, then run what fell due: quicker than `advance`."""
    harness.clock.advance(minutes=minutes)
    harness.runtime.engine.run_due()


def page_minutes(harness: Harness) -> list[float]:
    return [minute for minute, _, _ in harness.paged()]


def test_six_changes_in_ten_minutes_flap_and_the_key_stops_paging_each_time(make_harness: Make):
    harness = make_harness(ROUTES)

    opened = flip(harness, "disk-full", until=10)

    # Fires at 0, 2, 4 page; the fire at 6 is the sixth change (five resolves
    # and re-fires since minute 0): the key flaps and its pages are held.
    assert page_minutes(harness) == [0, 2, 4]
    assert [harness.alert(alert_id).flapping for alert_id in opened] == [
        False, False, False, True, True, True]
    sixth = harness.timeline(opened[3])
    assert ("flapping: flapping: 6 changes in 30 minutes; pages at most once per 30 minutes"
            in sixth)
    assert any(line.startswith("page_held: flapping: the key paged at 2026-03-02T03:04:00Z, "
                               "so the first page waits until 2026-03-02T03:34:00Z")
               for line in sixth)
    # Every change is still on the timelines.
    assert sum(line.startswith("resolved:") for alert_id in opened
               for line in harness.timeline(alert_id)) == 5


def test_the_held_page_goes_out_at_the_windows_end_while_still_firing(make_harness: Make):
    harness = make_harness(ROUTES)
    opened = flip(harness, "disk-full", until=10)

    harness.advance(23)
    assert page_minutes(harness) == [0, 2, 4]
    harness.advance(1)

    assert harness.paged() == [(0, "alice", 1), (2, "alice", 1), (4, "alice", 1),
                               (34, "alice", 1)]
    assert harness.alert(opened[-1]).step == 0


def test_while_it_keeps_flapping_it_pages_once_per_window(make_harness: Make):
    harness = make_harness(ROUTES)

    flip(harness, "disk-full", until=70)

    assert page_minutes(harness) == [0, 2, 4, 34, 64]


def test_an_ack_before_the_windows_end_means_no_page(make_harness: Make):
    harness = make_harness(ROUTES)
    opened = flip(harness, "disk-full", until=10)

    harness.advance(2)
    harness.ack(opened[-1], actor="bob")
    jump(harness, 60)

    assert page_minutes(harness) == [0, 2, 4]
    assert harness.alert(opened[-1]).status == "acknowledged"


def test_slow_flips_once_an_hour_never_flap(make_harness: Make):
    harness = make_harness(ROUTES)
    opened = []
    for hour in range(8):
        if hour % 2 == 0:
            opened.append(harness.fire("nightly-batch"))
        else:
            harness.fire("nightly-batch", action="resolve")
        jump(harness, 60)

    assert page_minutes(harness) == [0, 120, 240, 360]
    assert not any(harness.alert(alert_id or 0).flapping for alert_id in opened)


def test_severity_flips_count_and_a_new_policy_waits_for_the_window(make_harness: Make):
    harness = make_harness(ONE_STEP + """
routes:
  - {match: {severity: critical}, notify: critical}
  - {match: {severity: warning}, notify: quiet}
""")
    alert_id = harness.fire("latency", severity="critical")
    for minute in range(1, 7):
        harness.advance(1)
        harness.fire("latency", severity="warning" if minute % 2 else "critical")

    assert harness.alert(alert_id).flapping
    assert harness.paged() == [(0, "alice", 1), (1, "carol", 1), (2, "alice", 1),
                               (3, "carol", 1), (4, "alice", 1), (5, "carol", 1)]
    assert ("flapping: flapping: 6 changes in 30 minutes; pages at most once per 30 minutes"
            in harness.timeline(alert_id))

    harness.advance(30)
    assert harness.paged()[6:] == [(35, "alice", 1)]


def test_flapping_off_pages_every_time(make_harness: Make):
    harness = make_harness("flapping: off\n" + ROUTES)

    opened = flip(harness, "disk-full", until=10)

    assert page_minutes(harness) == [0, 2, 4, 6, 8, 10]
    assert not any(harness.alert(alert_id).flapping for alert_id in opened)
    assert not any(line.startswith(("flapping", "page_held")) for alert_id in opened
                   for line in harness.timeline(alert_id))


def test_a_route_overrides_the_setting_for_the_alerts_it_takes(make_harness: Make):
    harness = make_harness("flapping: off\n" + ONE_STEP + """
routes:
  - match: {team: db}
    flapping: {changes: 2, minutes: 60}
    notify: critical
    routes:
      - {match: {env: prod}, notify: critical}
  - {notify: quiet}
""")
    db = {"team": "db", "env": "prod"}

    opened = flip(harness, "db-replication", until=6, labels=db)
    flip(harness, "web-5xx", until=16, labels={"team": "web"})

    assert harness.paged() == [
        (0, "alice", 1), (2, "alice", 1),  # the nested route inherits 2 changes in 60
        (6, "carol", 1), (8, "carol", 1), (10, "carol", 1), (12, "carol", 1),
        (14, "carol", 1), (16, "carol", 1),  # the catch-all keeps the file's "off"
    ]
    assert [harness.alert(alert_id).flapping for alert_id in opened] == [False, True, True, True]
    assert ("flapping: flapping: 3 changes in 60 minutes; pages at most once per 60 minutes"
            in harness.timeline(opened[1]))


def test_the_flag_clears_at_the_next_event_once_the_window_is_quiet(
    make_harness: Make, caplog: pytest.LogCaptureFixture,
) -> None:
    harness = make_harness(ROUTES)
    opened = flip(harness, "disk-full", until=10)
    jump(harness, 35)
    assert harness.alert(opened[-1]).flapping

    with caplog.at_level(logging.INFO, logger="tocsin.alerts.flapping"):
        harness.fire("disk-full")  # a repeat: not a change, but the key's next event

    assert not harness.alert(opened[-1]).flapping
    assert harness.timeline(opened[-1])[-1] == (
        "flapping_ended: no longer flapping: 0 changes in the last 30 minutes")
    ended = [record_fields(r) for r in caplog.records if r.getMessage() == "alert.flapping_ended"]
    assert ended == [{"alert_id": opened[-1], "changes": 0}]


def test_flapping_is_logged_with_the_alert_id(
    make_harness: Make, caplog: pytest.LogCaptureFixture,
) -> None:
    harness = make_harness(ROUTES)

    with caplog.at_level(logging.INFO, logger="tocsin.alerts.flapping"):
        opened = flip(harness, "disk-full", until=6)

    started = [record_fields(r) for r in caplog.records if r.getMessage() == "alert.flapping"]
    assert started == [{"alert_id": opened[-1], "changes": 6, "minutes": 30}]


def test_a_held_first_step_moved_to_a_steady_member_of_its_group_pages_at_once(
    make_harness: Make,
):
    # Key "fa" flaps and its new alert's first page is held; "fb" joins its
    # group; "fa" resolves, and "fb", whose key never flapped, leads. Its
    # first step must not wait out fa's window.
    harness = make_harness(ONE_STEP + """
flapping: {changes: 2, minutes: 30}
routes:
  - {notify: critical, group_by: [alertname]}
""")
    labels = {"alertname": "HighErrorRate"}
    flip(harness, "fa", until=4, labels=labels)
    held = page_minutes(harness)
    steady = harness.fire("fb", labels=labels)
    assert steady is not None
    harness.advance(1)
    assert page_minutes(harness) == held  # fb joined fa's group: nobody paged

    harness.fire("fa", action="resolve")
    harness.advance(1)

    assert len(page_minutes(harness)) == len(held) + 1
    assert page_minutes(harness)[-1] <= 7
