"""Values a calendar cannot hold are refused by check, not found out at 3 a.m."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.config.loader import ConfigError, load_config

TEMPLATE = """\
users:
  - {{id: alice}}
escalation_policies:
  - name: p
    {extra}
    steps:
      - {{targets: [alice], timeout_minutes: {timeout}}}
routes:
  - {{notify: p}}
"""


def load(tmp_path: Path, *, timeout: str = "5", extra: str = "repeat: 0") -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(TEMPLATE.format(timeout=timeout, extra=extra), encoding="utf-8")
    load_config(path, env={})


@pytest.mark.parametrize(("timeout", "extra", "field"), [
    ("1e12", "repeat: 0", "escalation_policies[0].steps[0].timeout_minutes"),
    ("5", "repeat: 1000000", "escalation_policies[0].repeat"),
    ("5", "ack_timeout_minutes: 1e300", "escalation_policies[0].ack_timeout_minutes"),
])
def test_absurd_values_are_errors_naming_the_field(tmp_path, timeout, extra, field):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, timeout=timeout, extra=extra)

    [problem] = [p for p in caught.value.problems if p.severity == "error"]
    assert problem.path == field
    assert "must be at most" in problem.message


def test_four_weeks_is_still_allowed(tmp_path):
    load(tmp_path, timeout="40320", extra="ack_timeout_minutes: 40320")
