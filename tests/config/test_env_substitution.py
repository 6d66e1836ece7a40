"""${NAME} and ${NAME:-default} are replaced inside string values only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, line_of, load, only_error, rejected, write
from tocsin.config.loader import load_config

INTEGRATION = (
    BASE
    + """\
integrations:
  - {name: prom, type: alertmanager, key: "${PROM_KEY:-demo-key}"}
"""
)


def test_a_set_variable_replaces_its_default(tmp_path: Path) -> None:
    config, _ = load(tmp_path, INTEGRATION, env={"PROM_KEY": "from-env"})

    assert config.integrations[0].key == "from-env"


def test_an_unset_variable_takes_its_default(tmp_path: Path) -> None:
    config, _ = load(tmp_path, INTEGRATION, env={})

    assert config.integrations[0].key == "demo-key"


def test_an_empty_variable_takes_its_default_like_the_shell(tmp_path: Path) -> None:
    config, _ = load(tmp_path, INTEGRATION, env={"PROM_KEY": ""})

    assert config.integrations[0].key == "demo-key"


def test_variables_are_replaced_inside_a_longer_string(tmp_path: Path) -> None:
    text = BASE + 'public_url: "https://${HOST}:${PORT:-8443}/tocsin"\n'
    config, _ = load(tmp_path, text, env={"HOST": "oncall.example.com"})

    assert config.public_url == "https://oncall.example.com:8443/tocsin"


def test_every_unset_variable_is_reported_with_its_line(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
notifications:
  slack:
    token: "${SLACK_TOKEN}"
    signing_secret: "${SLACK_SIGNING_SECRET}"
"""
    )
    found = [p for p in rejected(tmp_path, text, env={}) if p.severity == "error"]

    assert [(p.line, p.path) for p in found] == [
        (line_of(text, "SLACK_TOKEN"), "notifications.slack.token"),
        (line_of(text, "SLACK_SIGNING_SECRET"), "notifications.slack.signing_secret"),
    ]
    assert "${SLACK_TOKEN} is not set" in found[0].message


def test_a_variable_in_a_number_is_not_replaced(tmp_path: Path) -> None:
    text = BASE.replace(
        "- {targets: [primary], timeout_minutes: 5}",
        "- targets: [primary]\n        timeout_minutes: ${STEP_MINUTES}",
    )
    problem = only_error(tmp_path, text, env={"STEP_MINUTES": "5"})

    assert problem.path == "escalation_policies[0].steps[0].timeout_minutes"
    assert "expected a number" in problem.message
    assert "variables are replaced only inside strings" in problem.fix


def test_a_variable_in_a_key_is_not_replaced(tmp_path: Path) -> None:
    text = BASE.replace(
        "  - notify: critical\n",
        "  - notify: critical\n    match:\n      ${LABEL}: x\n  - notify: critical\n",
    )
    config, _ = load(tmp_path, text, env={"LABEL": "service"})

    assert config.routes[0].match == {"${LABEL}": "x"}


def test_the_process_environment_is_used_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROM_KEY", "from-process")
    config, _ = load_config(write(tmp_path, INTEGRATION))

    assert config.integrations[0].key == "from-process"
