"""Keys the design names but this release does not act on are errors that say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, line_of, only_error

NOT_BUILT = [
    ("status_page.public_port",
     ("users:", "status_page:\n  public_port: 8081\nusers:"), "public_port"),
]


@pytest.mark.parametrize(("path", "change", "needle"), NOT_BUILT, ids=[n[0] for n in NOT_BUILT])
def test_recognised_key_not_built_yet_is_an_error_saying_so(
    tmp_path: Path, path: str, change: tuple[str, str], needle: str
) -> None:
    text = BASE.replace(*change)
    problem = only_error(tmp_path, text)

    assert problem.path == path
    assert problem.line == line_of(text, needle)
    assert "recognised but not built yet in this release" in problem.message
    assert problem.fix.startswith("remove the key (planned: ")


def test_an_integration_type_nobody_planned_is_a_bad_value(tmp_path: Path) -> None:
    text = BASE + "integrations:\n  - {name: in, type: nagios, key: k1}\n"
    problem = only_error(tmp_path, text)

    assert problem.path == "integrations[0].type"
    assert problem.message.startswith("bad value 'nagios': must be alertmanager, pagerduty, ")
    assert "grafana" in problem.message and "generic" in problem.message
    assert "opsgenie" in problem.message
