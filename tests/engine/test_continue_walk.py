"""`continue` in the routing walk: which routes take an alert, and what the decision says."""

from __future__ import annotations

from datetime import UTC, datetime

from tocsin.alerts.routes import decide_route, decision_json
from tocsin.config.model import Config, EscalationPolicy, Route, Step, Target

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LABELS = {"severity": "critical", "service": "payment", "team": "db"}


def policy(name: str) -> Target:
    return Target("escalation_policy", name)


def route(path: str, name: str | None, *, line: int = 1, cont: bool = False,
          nested: tuple[Route, ...] = (), **match: str) -> Route:
    return Route(notify=policy(name) if name else None, match=match, path=path, line=line,
                 continues=cont, routes=nested)


def config(*routes: Route) -> Config:
    step = Step(targets=(Target("user", "alice"),), timeout_minutes=5)
    names = {"payments", "leadership", "dba", "fallthrough", "audit"}
    return Config(path="tocsin.yaml", routes=routes,
                  escalation_policies={n: EscalationPolicy(n, (step,)) for n in names})


def decide(*routes: Route, labels: dict[str, str] = LABELS):
    return decide_route(config(*routes), labels, severity=labels.get("severity"),
                        service=labels.get("service"), at=MONDAY)


def test_without_continue_the_first_route_that_takes_the_alert_is_the_only_one():
    decision = decide(route("routes[0]", "payments", service="payment"),
                      route("routes[1]", "leadership", severity="critical"))

    assert decision.policy == "payments"
    assert decision.also == ()


def test_continue_lets_every_later_route_that_matches_take_the_alert_too():
    decision = decide(
        route("routes[0]", "audit", line=3, cont=True),  # a catch-all that continues
        route("routes[1]", "payments", line=5, cont=True, service="payment"),
        route("routes[2]", "dba", line=7, team="web"),
        route("routes[3]", "leadership", line=9, severity="critical"),
        route("routes[4]", "fallthrough", line=11),  # after a route without continue
    )

    assert decision.policy == "audit"
    assert decision.also_policies == ("payments", "leadership")
    assert decision.explanation == (
        "routes[0] (line 3): yes, catch-all route",
        "routes[0] (line 3): takes the alert, notify audit",
        "routes[0] (line 3): continue is set, so the walk goes on",
        "routes[1] (line 5): yes, matched service=payment",
        "routes[1] (line 5): takes the alert too, notify payments",
        "routes[1] (line 5): continue is set, so the walk goes on",
        "routes[2] (line 7): no, team='db' is not 'web'",
        "routes[3] (line 9): yes, matched severity=critical",
        "routes[3] (line 9): takes the alert too, notify leadership",
    )


def test_a_nested_continue_goes_on_to_its_siblings_but_not_past_its_parent():
    parent = route("routes[0]", "payments", service="payment", nested=(
        route("routes[0].routes[0]", "dba", cont=True, team="db"),
        route("routes[0].routes[1]", "leadership", severity="critical"),
    ))

    decision = decide(parent, route("routes[1]", "fallthrough"))

    assert decision.choice is not None
    assert decision.choice.route.path == "routes[0].routes[0]"
    assert decision.also_policies == ("leadership",)  # and not fallthrough: the parent stops


def test_a_parent_with_continue_hands_on_after_its_nested_routes_took_the_alert():
    parent = route("routes[0]", "payments", cont=True, service="payment", nested=(
        route("routes[0].routes[0]", "dba", team="db"),
    ))

    decision = decide(parent, route("routes[1]", "leadership", severity="critical"))

    assert (decision.policy, decision.also_policies) == ("dba", ("leadership",))


def test_a_route_that_only_groups_passes_the_alert_on_as_before():
    grouping = route("routes[0]", None, service="payment", nested=(
        route("routes[0].routes[0]", "dba", team="web"),
    ))

    decision = decide(grouping, route("routes[1]", "leadership"))

    assert (decision.policy, decision.also) == ("leadership", ())


def test_a_policy_named_again_runs_once_and_the_explanation_says_so():
    decision = decide(
        route("routes[0]", "payments", line=3, cont=True, service="payment"),
        route("routes[1]", "leadership", line=5, cont=True, severity="critical"),
        route("routes[2]", "payments", line=7, team="db"),
        route("routes[3]", "leadership", line=9),
    )

    assert decision.also_policies == ("leadership",)
    assert decision.explanation[-1] == (
        "routes[2] (line 7): policy payments already runs for this alert; it runs once")
    assert decision_json(decision)["also"] == [
        {"route": "routes[1]", "line": 5, "notify": {"kind": "escalation_policy",
                                                     "name": "leadership"},
         "policy": "leadership"},
    ]


def test_a_route_notifying_a_user_directly_adds_its_one_step_policy():
    direct = Route(notify=Target("user", "bob"), match={"severity": "critical"},
                   path="routes[1]", line=5)

    decision = decide(route("routes[0]", "payments", cont=True, service="payment"), direct)

    assert decision.also_policies == ("implicit:bob",)
    assert decision_json(decision)["also"][0]["notify"] == {"kind": "user", "name": "bob"}


def test_the_first_route_sets_urgency_and_channels():
    first = Route(notify=policy("payments"), match={"service": "payment"}, path="routes[0]",
                  urgency="low", channels=("slack",), continues=True)
    later = Route(notify=policy("leadership"), path="routes[1]", urgency="high",
                  channels=("email",))

    decision = decide(first, later)

    assert (decision.urgency, decision.channels) == ("low", ("slack",))
    assert decision.also_policies == ("leadership",)
