"""Which maintenance windows hold an alert at an instant: pure matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.alerts.maintenance_rules import (
    Window,
    describe_matchers,
    has_matcher,
    holding,
    in_force,
    matches,
    regex_problem,
    span_problem,
    unstorable,
)
from tocsin.routing.rules import alert_labels

START = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
END = START + timedelta(hours=2)


def window(key: str = "1", end: datetime = END, **matchers: object) -> Window:
    return Window(key=key, label=f"#{key}", start=START, end=end,
                  **matchers)  # type: ignore[arg-type]


def labels(**extra: str) -> dict[str, str]:
    return alert_labels({"alertname": "DiskFull", **extra}, severity="critical",
                        service="payment")


def test_a_window_is_in_force_from_its_start_until_just_before_its_end():
    held = window(services=("payment",))

    assert not in_force(held, START - timedelta(seconds=1))
    assert in_force(held, START)
    assert in_force(held, END - timedelta(microseconds=1))
    assert not in_force(held, END)


@pytest.mark.parametrize(("matchers", "expected"), [
    ({"services": ("payment",)}, True),
    ({"services": ("search", "payment")}, True),
    ({"services": ("search",)}, False),
    ({"match": {"env": "prod"}}, True),
    ({"match": {"env": "staging"}}, False),
    ({"match": {"rack": "r1"}}, False),  # a label the alert lacks
    ({"match": {"severity": "critical"}}, True),  # severity is a label, as for routes
    ({"match_re": {"alertname": "Disk.*"}}, True),
    ({"match_re": {"alertname": "Disk"}}, False),  # the whole value must match
    ({"match_re": {"rack": ".*"}}, False),  # an absent label matches no expression
    ({"services": ("payment",), "match": {"env": "staging"}}, False),  # every matcher agrees
    ({"services": ("payment",), "match": {"env": "prod"},
      "match_re": {"alertname": "Disk.+"}}, True),
])
def test_every_matcher_must_agree(matchers, expected):
    assert matches(window(**matchers), labels(env="prod")) is expected


def test_a_window_with_no_matcher_holds_nothing():
    assert not matches(window(), labels())
    assert not has_matcher((), {}, {})
    assert has_matcher(("payment",), {}, {})


def test_the_window_that_ends_last_holds_the_alert():
    short = window("1", services=("payment",))
    long = window("2", end=END + timedelta(hours=1), match={"env": "prod"})
    other = window("3", end=END + timedelta(hours=9), services=("search",))

    found = holding([short, long, other], labels(env="prod"), START)

    assert found is long


def test_nothing_holds_outside_the_windows_or_when_none_match():
    held = window(services=("payment",))

    assert holding([held], labels(), END) is None
    assert holding([held], alert_labels({}, severity=None, service="search"), START) is None
    assert holding([], labels(), START) is None


def test_a_tie_goes_to_the_first_listed():
    first = window("config:a", services=("payment",))
    second = window("7", services=("payment",))

    assert holding([first, second], labels(), START) is first


@pytest.mark.parametrize(("start", "end", "problem"), [
    (START, START, "must be after start"),
    (START, START - timedelta(minutes=1), "must be after start"),
    (START, START + timedelta(days=367), "at most 366 days"),
    (START, START + timedelta(days=366), None),
])
def test_span_problems(start, end, problem):
    found = span_problem(start, end)

    assert found is None if problem is None else problem in (found or "")


def test_text_no_store_can_keep_is_named():
    assert unstorable("db upgrade") is None
    assert "NUL" in (unstorable("a\x00b") or "")
    assert "surrogate" in (unstorable("a\ud800b") or "")


def test_bad_expressions_are_named():
    assert regex_problem("db-.*") is None
    assert (regex_problem("db-(") or "").startswith("bad regular expression")


def test_matchers_read_as_words():
    shown = describe_matchers(("payment", "search"), {"env": "prod"}, {"host": "db-.*"})

    assert shown == "service in (payment, search), env=prod, host=~/db-.*/"
