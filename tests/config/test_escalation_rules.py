"""The escalation rules `check` enforces (DESIGN, "Decided semantics")."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error, warnings_at

POLICY = BASE.replace(
    """\
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 0}
""",
    """\
  - name: critical
    repeat: REPEAT
    steps:
      - {targets: [primary], timeout_minutes: FIRST}
      - {targets: [bob], timeout_minutes: LAST}
""",
)


def _policy(repeat: str = "0", first: str = "5", last: str = "0") -> str:
    return POLICY.replace("REPEAT", repeat).replace("FIRST", first).replace("LAST", last)


def test_repeat_with_a_final_timeout_of_zero_is_rejected(tmp_path: Path) -> None:
    text = _policy(repeat="2", last="0")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "repeat: 2")
    assert problem.path == "escalation_policies[0].repeat"
    assert "needs the last step's timeout_minutes above 0" in problem.message
    assert "remove repeat" in problem.fix


def test_repeat_with_a_final_timeout_loads(tmp_path: Path) -> None:
    config, _ = load(tmp_path, _policy(repeat="2", last="10"))

    assert config.escalation_policies["critical"].repeat == 2


def test_zero_timeout_before_the_last_step_is_rejected(tmp_path: Path) -> None:
    text = _policy(first="0")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "targets: [primary]")
    assert problem.path == "escalation_policies[0].steps[0].timeout_minutes"
    assert "next step would start at once" in problem.message
    assert "one step" in problem.fix


def test_missing_timeout_before_the_last_step_counts_as_zero(tmp_path: Path) -> None:
    text = _policy().replace(", timeout_minutes: 5", "")
    problem = only_error(tmp_path, text)

    assert problem.path == "escalation_policies[0].steps[0].timeout_minutes"


def test_steps_must_not_be_empty(tmp_path: Path) -> None:
    text = BASE.replace(
        "    steps:\n      - {targets: [primary], timeout_minutes: 5}\n"
        "      - {targets: [bob], timeout_minutes: 0}\n",
        "    steps: []\n",
    )
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "steps: []")
    assert problem.path == "escalation_policies[0].steps"
    assert problem.message == "the list is empty"


def test_a_step_must_name_someone(tmp_path: Path) -> None:
    text = _policy().replace("targets: [bob]", "targets: []")
    problem = only_error(tmp_path, text)

    assert problem.path == "escalation_policies[0].steps[1].targets"


def test_negative_timeout_is_rejected(tmp_path: Path) -> None:
    problem = only_error(tmp_path, _policy(first="-5"))

    assert problem.path == "escalation_policies[0].steps[0].timeout_minutes"
    assert problem.message == "must be 0 or more, got -5"


def test_sub_minute_timeouts_load_with_a_warning(tmp_path: Path) -> None:
    text = _policy(first="0.05").replace("repeat: 0", "ack_timeout_minutes: 0.5")
    config, warnings = load(tmp_path, text)

    policy = config.escalation_policies["critical"]
    assert policy.steps[0].timeout_minutes == 0.05
    assert policy.ack_timeout_minutes == 0.5
    step_warnings = warnings_at(warnings, "escalation_policies[0].steps[0].timeout_minutes")
    assert step_warnings == ["0.05 minutes is under one minute"]
    ack_warnings = warnings_at(warnings, "escalation_policies[0].ack_timeout_minutes")
    assert ack_warnings == ["0.5 minutes is under one minute"]


def test_a_policy_inside_a_policy_is_rejected(tmp_path: Path) -> None:
    text = _policy().replace(
        "routes:", "  - name: outer\n    steps:\n      - {targets: [critical]}\nroutes:"
    )
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "targets: [critical]")
    assert problem.path == "escalation_policies[1].steps[0].targets[0]"
    assert problem.message.startswith("'critical' is an escalation policy")
    assert "policies do not nest" in problem.fix


def test_every_escalation_problem_in_a_file_is_reported(tmp_path: Path) -> None:
    text = _policy(repeat="1", first="0", last="0")
    found = errors(tmp_path, text)

    assert [p.path for p in found] == [
        "escalation_policies[0].repeat",
        "escalation_policies[0].steps[0].timeout_minutes",
    ]
