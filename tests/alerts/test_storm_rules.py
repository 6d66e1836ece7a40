"""Which routes are in storm, from counts and limits alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.alerts.storm_rules import Storm, bundle_due, route_path, storms
from tocsin.config.model import Config, Route, Target

NOTIFY = Target("escalation_policy", "critical")
CONFIG = Config(
    path="tocsin.yaml",
    storm=10,
    routes=(
        Route(NOTIFY, match={"service": "payment"}, path="routes[0]", line=3, storm=5,
              routes=(Route(NOTIFY, match={"env": "prod"}, path="routes[0].routes[0]", line=7,
                            storm=None),)),
        Route(NOTIFY, path="routes[1]", line=9, storm=10),
    ),
)
PAYMENT = "routes[0] (line 3): matched service=payment"


def test_the_path_is_read_from_the_alerts_route_record() -> None:
    assert route_path(PAYMENT) == "routes[0]"
    assert route_path("routes[0].routes[1] (line 12): catch-all route") == "routes[0].routes[1]"
    assert route_path("service payment") == "service payment"
    assert route_path(None) is None and route_path("") is None


def test_more_alerts_than_the_limit_in_the_minute_is_a_storm_and_as_many_is_not() -> None:
    assert storms({PAYMENT: 5}, CONFIG) == {}
    assert storms({PAYMENT: 6}, CONFIG) == {"routes[0]": Storm("routes[0]", 6, 5)}


def test_records_of_one_route_from_before_a_reload_count_together() -> None:
    moved = "routes[0] (line 4): matched service=payment"

    assert storms({PAYMENT: 3, moved: 3}, CONFIG) == {"routes[0]": Storm("routes[0]", 6, 5)}


def test_a_route_with_storms_off_never_storms() -> None:
    assert storms({"routes[0].routes[0] (line 7): matched env=prod": 10_000}, CONFIG) == {}


def test_a_services_policy_and_a_route_gone_since_use_the_top_level_limit() -> None:
    found = storms({"service payment": 11, "routes[5] (line 40): catch-all route": 10}, CONFIG)

    assert found == {"service payment": Storm("service payment", 11, 10)}


def test_a_bundle_goes_at_once_or_a_minute_after_the_last_one() -> None:
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)

    assert bundle_due(now, None) == now
    assert bundle_due(now, now - timedelta(seconds=20)) == now + timedelta(seconds=40)
    assert bundle_due(now, now - timedelta(minutes=5)) == now
