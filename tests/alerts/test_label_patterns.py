"""Label patterns run on RE2: a hostile label cannot stall matching.

`(a+)+$` against a long run of `a` that ends in `!` takes Python's `re`
exponential time (it would never finish here, and pytest-timeout would fail
the test); RE2 answers in time linear in the label. The tests assert the
answer, not a duration: `bench/label_patterns.py` prints the times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.alerts.maintenance_rules import Window, matches, regex_problem
from tocsin.config.model import Route, Target
from tocsin.config.patterns import full_match, pattern_problem
from tocsin.routing.rules import route_matches

HOSTILE = "a" * 50_000 + "!"
NESTED = "(a+)+$"
START = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


def test_a_hostile_label_against_a_nested_quantifier_is_answered():
    assert not full_match(NESTED, HOSTILE)
    assert full_match(NESTED, "a" * 50_000)


def test_a_route_with_a_nested_quantifier_turns_a_hostile_label_away():
    route = Route(notify=Target("escalation_policy", "critical"), match_re={"host": NESTED})

    matched, why = route_matches(route, {"host": HOSTILE})

    assert not matched
    assert why.endswith("does not match /(a+)+$/")


def test_a_maintenance_window_with_a_nested_quantifier_holds_no_hostile_alert():
    window = Window(key="1", label="#1", start=START, end=START + timedelta(hours=1),
                    match_re={"host": NESTED})

    assert not matches(window, {"host": HOSTILE})
    assert matches(window, {"host": "aaaa"})


def test_matching_is_still_against_the_whole_value():
    assert full_match("prod|production", "production")
    assert not full_match("prod|production", "production-eu")
    assert not full_match("db-[0-9]+", "xdb-1")


def test_a_lone_surrogate_in_a_label_is_matched_not_raised():
    # `tocsin route test` reads labels from argv, where bytes that are not UTF-8
    # arrive as lone surrogates; RE2 reads UTF-8 only.
    assert full_match("db-.", "db-\udcff")
    assert not full_match("db-[0-9]", "db-\udcff")


def test_a_stored_pattern_re2_refuses_matches_nothing():
    # Made through the API before Tocsin ran RE2: such a window silences nothing.
    window = Window(key="1", label="#1", start=START, end=START + timedelta(hours=1),
                    match_re={"host": "db-(?=1)"})

    assert not matches(window, {"host": "db-1"})


def test_the_api_check_says_what_re2_lacks_and_the_fix():
    assert regex_problem("(?!staging).*") == (
        "RE2 has no negative lookahead; rewrite without (?!...): list the values you want, "
        "e.g. prod|production")
    assert regex_problem("db-[0-9]+") is None
    assert pattern_problem("db-\ud800") == (
        "the pattern holds a lone UTF-16 surrogate, which is not text",
        "send the pattern as valid UTF-8")
