"""Route matching: equality, regular expressions, the tree, active windows."""

from __future__ import annotations

from datetime import UTC, datetime, time

from tocsin.config.model import Restriction, Route, Target
from tocsin.routing.rules import (
    alert_labels,
    choose_route,
    explain_route,
    in_window,
    route_matches,
)

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


def test_severity_from_the_alert_overrides_a_label():
    # A severity mapped from another field (`fields:`) is the one routes match.
    labels = alert_labels({"severity": "warning", "sev": "SEV1"}, severity="SEV1", service=None)

    assert labels["severity"] == "SEV1"
    assert alert_labels({"severity": "warning"}, severity=None, service=None) == {
        "severity": "warning"}


# --- The routing tree -------------------------------------------------------------

DB_TEAM = Route(notify=Target("escalation_policy", "database"), match={"team": "db"},
                path="routes[0].routes[0]", line=4)
PAYMENTS = Route(
    notify=Target("escalation_policy", "payments"), match={"service": "payment"},
    routes=(DB_TEAM,), path="routes[0]", line=2,
)
GROUPING_ONLY = Route(notify=None, match_re={"env": "prod|production"},
                      routes=(Route(notify=Target("user", "ops"), match={"severity": "critical"},
                                    path="routes[1].routes[0]", line=9),),
                      path="routes[1]", line=8)


def test_a_nested_route_takes_the_alert_before_its_parent():
    choice = choose_route([PAYMENTS, CATCH_ALL], {"service": "payment", "team": "db"})

    assert choice is not None
    assert choice.route is DB_TEAM
    assert choice.notify == Target("escalation_policy", "database")
    assert choice.index == 0


def test_the_parent_takes_what_no_nested_route_does():
    choice = choose_route([PAYMENTS, CATCH_ALL], {"service": "payment", "team": "web"})

    assert choice is not None and choice.route is PAYMENTS


def test_a_route_that_only_groups_passes_the_alert_on():
    choice = choose_route([GROUPING_ONLY, CATCH_ALL], {"env": "prod", "severity": "warning"})

    assert choice is not None and choice.route is CATCH_ALL
    assert "routes[1] (line 8): no nested route took it and this route notifies nobody" in (
        choice.explanation)


def test_the_explanation_walks_every_route_looked_at():
    choice = choose_route([PAYMENTS, GROUPING_ONLY, CATCH_ALL],
                          {"env": "production", "severity": "critical"})

    assert choice is not None
    assert choice.explanation == (
        "routes[0] (line 2): no, service=None is not 'payment'",
        "routes[1] (line 8): yes, matched env=~/prod|production/",
        "  routes[1].routes[0] (line 9): yes, matched severity=critical",
        "  routes[1].routes[0] (line 9): takes the alert, notify ops",
    )


OFFICE = Restriction(time(9), time(18), ("mon", "tue", "wed", "thu", "fri"))
OFFICE_HOURS = Route(notify=Target("schedule", "office"), active=OFFICE, path="routes[0]")
NIGHTS = Route(notify=Target("escalation_policy", "night"), path="routes[1]")


def test_an_active_window_is_read_on_the_configs_wall_clock():
    # 15:00 UTC on Monday 2026-03-02 is 10:00 in New York: office hours.
    monday = datetime(2026, 3, 2, 15, tzinfo=UTC)
    in_office = choose_route([OFFICE_HOURS, NIGHTS], {}, at=monday, timezone="America/New_York")
    # ... and 10:00 in Bangkok is 22:00 there: outside them.
    late = choose_route([OFFICE_HOURS, NIGHTS], {}, at=monday, timezone="Asia/Bangkok")

    assert in_office is not None and in_office.route is OFFICE_HOURS
    assert late is not None and late.route is NIGHTS
    assert late.explanation[0] == (
        "routes[0] (line 0): inactive at Mon 22:00 (active mon,tue,wed,thu,fri 09:00-18:00)")


def test_an_overnight_window_belongs_to_the_day_it_starts_on():
    window = Restriction(time(18), time(9), ("fri",))

    assert in_window(window, datetime(2026, 3, 7, 2, 0))  # Saturday 02:00, from Friday
    assert not in_window(window, datetime(2026, 3, 8, 2, 0))  # Sunday 02:00
    assert not in_window(window, datetime(2026, 3, 6, 9, 0))  # Friday 09:00: the end
    assert in_window(window, datetime(2026, 3, 6, 18, 0))  # Friday 18:00: the start


def test_with_nothing_taking_the_alert_the_explanation_says_so():
    choice, lines = explain_route([OFFICE_HOURS], {}, at=datetime(2026, 3, 1, 12, tzinfo=UTC),
                                  timezone="UTC")

    assert choice is None
    assert lines[-1] == "no route takes the alert: it goes to the fallback contact"
