"""`notifications.pagerduty` and `contacts.pagerduty`: forwarding pages to an Events v2 endpoint."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.config.helpers import BASE, errors, line_of, load, write
from tocsin.cli.main import app
from tocsin.config.model import PagerDutyProvider
from tocsin.engine.runtime import config_secrets
from tocsin.logs import RedactingFilter

KEY = "R0UT1NGKEY0000000000000000000042"
FORWARDING = BASE.replace(
    "name: Bob}", 'name: Bob, contacts: {pagerduty: "${DOWNSTREAM_KEY}"}}',
)
ENV = {"DOWNSTREAM_KEY": KEY}
PROVIDER = """\
notifications:
  pagerduty: {url: "http://127.0.0.1:8081/v2/enqueue", timeout_seconds: 3}
"""


def test_the_provider_defaults_to_pagerduty_itself(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, FORWARDING + "notifications:\n  pagerduty: {}\n", ENV)

    assert config.notifications.pagerduty == PagerDutyProvider(
        url="https://events.pagerduty.com/v2/enqueue", timeout_seconds=10.0)
    assert config.notifications.real_channels == ("pagerduty",)
    assert config.users["bob"].contacts == {"pagerduty": KEY}
    assert warnings == []


def test_any_events_endpoint_may_be_named(tmp_path: Path) -> None:
    config, _ = load(tmp_path, FORWARDING + PROVIDER, ENV)

    assert config.notifications.pagerduty == PagerDutyProvider(
        url="http://127.0.0.1:8081/v2/enqueue", timeout_seconds=3.0)


def test_a_routing_key_without_the_provider_is_the_usual_warning(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, FORWARDING, ENV)

    assert config.notifications.pagerduty is None
    assert [(w.path, w.message, w.fix) for w in warnings] == [(
        "users[1].contacts.pagerduty",
        "no pagerduty provider is configured, so pages to this user skip it",
        "add notifications.pagerduty, or remove pagerduty here",
    )]
    # The warning names the field, never the routing key.
    assert all(KEY not in w.format() for w in warnings)


def test_rules_and_routes_may_name_the_channel(tmp_path: Path) -> None:
    text = FORWARDING.replace(
        'contacts: {pagerduty: "${DOWNSTREAM_KEY}"}}',
        'contacts: {pagerduty: "${DOWNSTREAM_KEY}"}, notification_rules: '
        "{high: [{channel: pagerduty, after_minutes: 0}]}}",
    ).replace("  - notify: critical\n", "  - notify: critical\n    channels: [pagerduty]\n")

    config, warnings = load(tmp_path, text + PROVIDER, ENV)

    assert [rule.channel for rule in config.users["bob"].rules_for("high")] == ["pagerduty"]
    assert config.routes[0].channels == ("pagerduty",)
    assert warnings == []


def test_bad_provider_values_name_the_field(tmp_path: Path) -> None:
    text = FORWARDING + ("notifications:\n"
                         "  pagerduty: {url: events.example.com, timeout_seconds: 0}\n")

    found = {(p.path, p.line) for p in errors(tmp_path, text, ENV)}

    line = line_of(text, "pagerduty: {url")
    assert found == {("notifications.pagerduty.url", line),
                     ("notifications.pagerduty.timeout_seconds", line)}


def test_a_blank_routing_key_is_an_error(tmp_path: Path) -> None:
    text = FORWARDING.replace('"${DOWNSTREAM_KEY}"', '" "') + PROVIDER

    [problem] = errors(tmp_path, text)

    assert problem.path == "users[1].contacts.pagerduty"
    assert problem.line == line_of(text, "pagerduty: \" \"")


def test_routing_keys_are_masked_in_every_log_line(tmp_path: Path) -> None:
    config, _ = load(tmp_path, FORWARDING + PROVIDER, ENV)
    redactor = RedactingFilter()
    redactor.set_secrets(config_secrets(config))

    assert redactor.redact(f"posted with {KEY}") == "posted with ***"


def test_check_accepts_a_forwarding_config(tmp_path: Path) -> None:
    path = write(tmp_path, FORWARDING.replace('"${DOWNSTREAM_KEY}"', KEY) + PROVIDER)

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 0, result.stderr
    assert KEY not in result.stderr + result.stdout
