"""The seed article's fragment is rejected for what it leaves out; the example loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.config.loader import ConfigError, load_config
from tocsin.config.model import Target

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
