"""Services, teams, integrations, tokens and severities refer to what is defined."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error
from tocsin.config.model import DEFAULT_SEVERITIES, Service, Team

WIRED = (
    BASE
    + """\
teams:
  - {name: payments, members: [alice, bob], services: [payment]}
services:
  - {name: payment, escalation_policy: critical, team: payments}
integrations:
  - {name: prom, type: alertmanager, key: key-1, service: payment}
  - {name: pd, type: pagerduty, key: key-2}
"""
)


def test_services_teams_and_integrations_load_together(tmp_path: Path) -> None:
    config, _ = load(tmp_path, WIRED)

    assert config.services == {"payment": Service("payment", "critical", "payments")}
    assert config.teams == {"payments": Team("payments", ("alice", "bob"), ("payment",))}
    integration = config.integration_by_key("key-1")
    assert integration is not None and integration.service == "payment"


def test_an_integration_naming_an_unknown_service_is_rejected(tmp_path: Path) -> None:
    text = WIRED.replace("service: payment}", "service: paymnet}")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "paymnet")
    assert problem.path == "integrations[0].service"
    assert problem.message == "unknown service 'paymnet'"
    assert "did you mean 'payment'?" in problem.fix


def test_a_service_policy_and_team_must_be_defined(tmp_path: Path) -> None:
    text = WIRED.replace("policy: critical, team: payments", "policy: crit, team: paymnts")
    found = errors(tmp_path, text)

    assert [(p.path, p.message.split(":")[0]) for p in found] == [
        ("services[0].escalation_policy", "unknown escalation policy 'crit'"),
        ("services[0].team", "unknown team 'paymnts'"),
    ]


def test_a_team_listing_an_unknown_service_is_rejected(tmp_path: Path) -> None:
    text = WIRED.replace("services: [payment]}", "services: [payment, billing]}")
    problem = only_error(tmp_path, text)

    assert problem.path == "teams[0].services[1]"
    assert problem.message == "unknown service 'billing'"


def test_integration_keys_must_be_unique_and_are_not_echoed(tmp_path: Path) -> None:
    text = WIRED.replace("key: key-2", "key: key-1")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "name: pd")
    assert problem.path == "integrations[1].key"
    assert problem.message == (
        f"duplicate key: the integration at line {line_of(text, 'name: prom')} has it"
    )
    assert "key-1" not in problem.format()


def test_an_integration_key_must_fit_in_a_url(tmp_path: Path) -> None:
    text = WIRED.replace("key: key-2", 'key: "a/b c"')
    problem = only_error(tmp_path, text)

    assert problem.path == "integrations[1].key"
    assert "letters, digits" in problem.message


def test_service_names_must_be_unique(tmp_path: Path) -> None:
    text = WIRED.replace("integrations:", "  - {name: payment}\nintegrations:")
    found = errors(tmp_path, text)

    assert [p.message for p in found] == [
        f"duplicate name 'payment': the service at line {line_of(text, 'name: payment,')} has it"
    ]


def test_api_token_scope_defaults_to_write_and_is_checked(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
api_tokens:
  - {name: reader, token: t1, scope: read}
  - {name: ops, token: t2}
  - {name: root, token: t3, scope: superuser}
"""
    )
    problem = only_error(tmp_path, text)
    assert problem.path == "api_tokens[2].scope"
    assert problem.message == "bad value 'superuser': must be read, write or admin"

    config, _ = load(tmp_path, text.replace("scope: superuser", "scope: admin"))
    assert [t.scope for t in config.api_tokens] == ["read", "write", "admin"]


def test_severities_default_to_the_four_standard_ones(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)

    assert config.severities == DEFAULT_SEVERITIES
    assert config.severity("sev1") is not None


def test_severities_can_be_replaced_and_differ_by_more_than_case(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
severities:
  - {name: P1, description: Everything is down, target_mttr_minutes: 15}
  - {name: P2, target_mttr_minutes: 120, urgency: low}
"""
    )
    config, _ = load(tmp_path, text)
    assert [(s.name, s.target_mttr_minutes, s.urgency) for s in config.severities] == [
        ("P1", 15, "high"),
        ("P2", 120, "low"),
    ]

    problem = only_error(tmp_path, text.replace("name: P2", "name: p1"))
    assert problem.path == "severities[1].name"
    first = line_of(text, "name: P1")
    assert problem.message == f"duplicate name 'p1': the severity at line {first} has it"
