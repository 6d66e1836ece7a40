"""The seed article's fragment is rejected for what it leaves out; the example loads."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from tocsin.config.loader import ConfigError, load_config
from tocsin.config.model import Restriction, Target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _line(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if needle in line)


def test_seed_fragment_reports_exactly_its_three_undefined_targets() -> None:
    seed = EXAMPLES / "seed-fragment.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(seed, env={})
    found = [p for p in caught.value.problems if p.severity == "error"]

    assert [(p.line, p.path, p.message.split(":")[0]) for p in found] == [
        (
            _line(seed, "[secondary-oncall]"),
            "escalation_policies[0].steps[1].targets[0]",
            "unknown target 'secondary-oncall'",
        ),
        (
            _line(seed, "[engineering-manager]"),
            "escalation_policies[0].steps[2].targets[0]",
            "unknown target 'engineering-manager'",
        ),
        (
            _line(seed, "[vp-engineering]"),
            "escalation_policies[0].steps[3].targets[0]",
            "unknown target 'vp-engineering'",
        ),
    ]
    assert all(p.fix for p in found)


def test_seed_fragment_problems_come_sorted_by_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLES / "seed-fragment.yaml", env={})
    lines = [p.line for p in caught.value.problems]

    assert lines == sorted(lines)


def test_example_file_loads_the_seed_setup_completed() -> None:
    config, warnings = load_config(EXAMPLES / "tocsin.yaml", env={})

    assert all(w.severity == "warning" for w in warnings)
    assert config.schedules["primary-oncall"].layers[0].participants == (
        "alice",
        "bob",
        "carol",
        "dave",
    )
    steps = config.escalation_policies["production-critical"].steps
    assert [step.targets for step in steps] == [
        (Target("schedule", "primary-oncall"),),
        (Target("schedule", "secondary-oncall"),),
        (Target("user", "engineering-manager"),),
        (Target("user", "vp-engineering"),),
    ]
    assert [step.timeout_minutes for step in steps] == [5, 5, 10, 0]
    assert config.routes[-1].match == {} and config.routes[-1].match_re == {}


def test_example_file_reads_keys_and_token_from_the_environment() -> None:
    env = {"PROM_KEY": "k-prom", "PD_ROUTING_KEY": "k-pd", "TOCSIN_API_TOKEN": "t-ops"}
    config, _ = load_config(EXAMPLES / "tocsin.yaml", env=env)

    assert [(i.name, i.type, i.key, i.service) for i in config.integrations] == [
        ("prometheus", "alertmanager", "k-prom", "payment"),
        ("pd-compatible", "pagerduty", "k-pd", None),
    ]
    assert [(t.name, t.token, t.user, t.scope) for t in config.api_tokens] == [
        ("ops", "t-ops", "alice", "write")
    ]


def test_example_file_defaults_make_a_working_demo() -> None:
    config, _ = load_config(EXAMPLES / "tocsin.yaml", env={})

    assert config.integration_by_key("demo-prometheus-key") is not None
    assert config.integration_by_key("demo-pagerduty-routing-key-0001") is not None
    assert config.api_tokens[0].token == "demo-token-change-me"


def test_example_routes_keep_their_lines_and_the_direct_schedule_gets_a_policy() -> None:
    example = EXAMPLES / "tocsin.yaml"
    config, warnings = load_config(example, env={})

    assert config.routes[1].line == _line(example, "severity: warning") - 1
    assert config.routes[1].notify == Target("schedule", "primary-oncall")
    implicit = config.escalation_policies["implicit:primary-oncall"]
    assert implicit.implicit
    assert implicit.steps[0].targets == (Target("schedule", "primary-oncall"),)
    assert any("directly; it has no escalation" in w.message for w in warnings)


def test_layers_example_loads_layers_restrictions_and_overrides() -> None:
    config, warnings = load_config(EXAMPLES / "layers.yaml", env={})

    assert [w.path for w in warnings] == ["routes[0].notify"]
    office = config.schedules["office-hours"]
    assert [layer.name for layer in office.layers] == ["rotation"]
    assert office.layers[0].restrictions == (
        Restriction(time(9), time(17), ("mon", "tue", "wed", "thu", "fri")),
    )
    primary = config.schedules["primary-oncall"]
    assert [(layer.name, layer.participants) for layer in primary.layers] == [
        ("weekly", ("alice", "bob", "carol")),
        ("nights", ("dave", "erin")),
    ]
    assert primary.layers[1].restrictions == (
        Restriction(time(22), time(6), ("mon", "tue", "wed", "thu", "sun")),
    )
    assert [(o.id, o.kind, o.user, o.replaces, o.start, o.end) for o in primary.overrides] == [
        ("config:primary-oncall:0", "replace", "carol", "alice", _utc(3, 9, 13), _utc(3, 10, 13)),
        ("config:primary-oncall:1", "add", "erin", None, _utc(3, 10, 12), _utc(3, 11, 0)),
        ("config:primary-oncall:2", "whole", "bob", None, _utc(4, 3, 4), _utc(4, 4, 4)),
    ]


def _utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize("name", ["tocsin.yaml", "demo.yaml", "layers.yaml"])
def test_examples_name_only_listed_users_each_once_per_rotation(name: str) -> None:
    _, warnings = load_config(EXAMPLES / name, env={})

    assert [w.format() for w in warnings
            if "e-mail-only person" in w.message or "already a participant" in w.message] == []
