"""Route matching: equality, regular expressions, first match wins."""

from __future__ import annotations

from tocsin.config.model import Route, Target
from tocsin.routing.rules import alert_labels, choose_route, route_matches

CRITICAL_PAYMENT = Route(notify=Target("escalation_policy", "critical"),
                         match={"severity": "critical", "service": "payment"})
WARNINGS = Route(notify=Target("schedule", "primary"), match_re={"severity": "warn(ing)?"})
CATCH_ALL = Route(notify=Target("user", "ops"))


def test_first_matching_route_wins_and_says_why():
    labels = alert_labels({"alertname": "X"}, severity="critical", service="payment")

    choice = choose_route([CRITICAL_PAYMENT, WARNINGS, CATCH_ALL], labels)

    assert choice is not None
    assert choice.index == 0
    assert choice.why == "matched severity=critical, service=payment"


def test_regex_must_match_the_whole_value():
    assert route_matches(WARNINGS, {"severity": "warn"})[0]
    assert not route_matches(WARNINGS, {"severity": "warnings"})[0]


def test_a_missing_label_explains_the_miss():
    matched, why = route_matches(CRITICAL_PAYMENT, {"severity": "critical"})

    assert not matched
    assert why == "service=None is not 'payment'"


def test_the_catch_all_takes_what_nothing_else_does():
    choice = choose_route([CRITICAL_PAYMENT, WARNINGS, CATCH_ALL], {"severity": "info"})

    assert choice is not None and choice.route is CATCH_ALL


def test_no_route_at_all_gives_none():
    assert choose_route([CRITICAL_PAYMENT], {"severity": "info"}) is None


def test_service_from_the_alert_overrides_a_label():
    labels = alert_labels({"service": "old"}, severity=None, service="payment")

    assert labels["service"] == "payment"
