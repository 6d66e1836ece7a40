"""Keys the design names but this release does not act on are errors that say so."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, only_error


def test_an_integration_type_nobody_planned_is_a_bad_value(tmp_path: Path) -> None:
    text = BASE + "integrations:\n  - {name: in, type: nagios, key: k1}\n"
    problem = only_error(tmp_path, text)

    assert problem.path == "integrations[0].type"
    assert problem.message.startswith("bad value 'nagios': must be alertmanager, pagerduty, ")
    assert "grafana" in problem.message and "generic" in problem.message
    assert "opsgenie" in problem.message
