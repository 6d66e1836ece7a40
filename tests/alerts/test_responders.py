"""Responders named by a sender: looked up in the config, then turned into a policy."""

from __future__ import annotations

from tocsin.alerts.responders import (
    ResponderRef,
    from_json,
    label,
    policy_for,
    policy_name,
    resolve,
    to_json,
)
from tocsin.config.model import (
    Config,
    EscalationPolicy,
    Layer,
    Schedule,
    Service,
    Step,
    Target,
    Team,
    User,
)

CRITICAL = EscalationPolicy("critical", (
    Step((Target("schedule", "primary"),), 5), Step((Target("user", "bob"),), 10)),
    repeat=1, ack_timeout_minutes=30)
MANAGERS = EscalationPolicy("managers", (
    Step((Target("user", "carol"),), 15), Step((Target("user", "dave"),), 15),
    Step((Target("user", "erin"),), 15)))
CONFIG = Config(
    path="test.yaml",
    users={u.id: u for u in (User("alice", email="Alice@Example.com", name="Alice"),
                             User("bob", name="Bob"), User("bob2", name="Bob"),
                             User("carol"), User("dave"), User("erin"))},
    schedules={"primary": Schedule("primary", "UTC", (Layer("weekly", ("alice", "bob")),))},
    escalation_policies={
        "critical": CRITICAL, "managers": MANAGERS,
        "implicit:alice": EscalationPolicy("implicit:alice", (
            Step((Target("user", "alice"),), 0),), implicit=True)},
    services={"payment": Service("payment", "critical", "payments"),
              "billing": Service("billing", "managers", "billing")},
    teams={"payments": Team("payments", ("bob",), ()),
           "billing": Team("billing", ("erin",), ("billing",)),
           "web": Team("web", ("carol", "dave"), ())},
)


def _ref(kind: str, value: str, by: str = "name") -> ResponderRef:
    return ResponderRef(kind, by, value, "responders[0]")


def _targets(*refs: ResponderRef) -> tuple[Target, ...]:
    resolved, errors = resolve(CONFIG, refs)
    assert errors == []
    return resolved.targets


def test_users_are_found_by_id_email_in_any_case_or_a_unique_name():
    assert _targets(_ref("user", "alice", "id"), _ref("user", "ALICE@example.com", "username"),
                    _ref("user", "dave", "username")) == (
        Target("user", "alice"), Target("user", "dave"))
    assert _targets(_ref("user", "alice", "name")) == (Target("user", "alice"),)


def test_a_name_two_users_share_names_nobody():
    _, errors = resolve(CONFIG, [_ref("user", "Bob")])
    assert [e.message for e in errors] == ["No user exists with name 'Bob'."]


def test_schedules_and_policies_by_name_ignoring_case_but_never_implicit_policies():
    assert _targets(_ref("schedule", "PRIMARY"), _ref("escalation", "Managers", "id")) == (
        Target("schedule", "primary"), Target("escalation_policy", "managers"))
    _, errors = resolve(CONFIG, [_ref("escalation", "implicit:alice")])
    assert errors[0].message == "No escalation policy exists with name 'implicit:alice'."


def test_a_team_runs_its_services_policy_else_pages_its_members():
    # payments lists no services, but the payment service names it as its team.
    resolved, _ = resolve(CONFIG, [_ref("team", "payments"), _ref("team", "billing"),
                                   _ref("team", "web")])

    assert resolved.targets == (Target("escalation_policy", "critical"),
                                Target("escalation_policy", "managers"),
                                Target("user", "carol"), Target("user", "dave"))
    assert resolved.notes == (
        "team payments: escalation policy critical of service payment",
        "team billing: escalation policy managers of service billing",
        "team web: its members carol, dave")


def test_direct_targets_make_one_step_that_ends_the_policy():
    targets = (Target("user", "carol"), Target("schedule", "primary"))

    policy = policy_for(CONFIG, targets)

    assert policy is not None and policy.implicit
    assert policy.steps == (Step(targets, 0),)
    assert policy.name == policy_name(targets) == "responders: user carol, schedule primary"


def test_a_policy_runs_as_written_with_other_targets_in_its_first_step():
    policy = policy_for(CONFIG, (Target("user", "dave"), Target("escalation_policy", "critical")))

    assert policy == EscalationPolicy("critical", (
        Step((Target("schedule", "primary"), Target("user", "dave")), 5),
        Step((Target("user", "bob"),), 10)), repeat=1, ack_timeout_minutes=30)


def test_with_several_policies_the_first_sets_the_steps_and_the_others_join_them():
    policy = policy_for(CONFIG, (Target("escalation_policy", "critical"),
                                 Target("escalation_policy", "managers")))

    assert policy is not None
    assert [step.targets for step in policy.steps] == [
        (Target("schedule", "primary"), Target("user", "carol")),
        (Target("user", "bob"), Target("user", "dave")),
    ]
    assert ([s.timeout_minutes for s in policy.steps], policy.repeat) == ([5, 10], 1)


def test_targets_the_config_no_longer_has_are_left_out_and_none_left_is_none():
    assert policy_for(CONFIG, (Target("user", "gone"), Target("escalation_policy", "gone"))) \
        is None
    policy = policy_for(CONFIG, (Target("user", "gone"), Target("user", "erin")))
    assert policy is not None and policy.steps[0].targets == (Target("user", "erin"),)


def test_targets_round_trip_through_the_alert_row_and_junk_is_dropped():
    targets = (Target("user", "alice"), Target("escalation_policy", "critical"))

    assert from_json(to_json(targets)) == targets
    assert from_json([{"kind": "team", "name": "x"}, {"kind": "user"}, "x", None]) == ()
    assert from_json(None) == ()


def test_the_label_fits_the_policy_column():
    many = tuple(Target("user", f"user-{i:03}") for i in range(40))
    assert len(label(many)) == 200 and label(many).endswith("…")
