"""An `opsgenie` integration is built: it loads like the other types."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, load


def test_an_opsgenie_integration_loads_with_its_default_service(tmp_path: Path) -> None:
    text = BASE + (
        "services:\n  - {name: payment, escalation_policy: critical}\n"
        "integrations:\n  - {name: legacy, type: opsgenie, key: og-key-1, service: payment}\n"
    )

    config, problems = load(tmp_path, text)

    assert [p.format() for p in problems if p.severity == "error"] == []
    [integration] = config.integrations
    assert (integration.name, integration.type, integration.key, integration.service) == (
        "legacy", "opsgenie", "og-key-1", "payment")
