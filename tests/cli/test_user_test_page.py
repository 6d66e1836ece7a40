"""`tocsin user test-page USER CHANNEL` sends through the real provider and says how it went."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from tests.support.webhook_receiver import WebhookReceiver
from tocsin.cli.main import app

SECRET = "test-page-secret"

CONFIG = """\
users:
  - id: alice
    name: Alice
    contacts: {{webhook: "{hook}", sms: "+15550100"}}
  - {{id: bob, name: Bob}}
escalation_policies:
  - name: critical
    steps: [{{targets: [alice], timeout_minutes: 0}}]
routes:
  - notify: critical
notifications:
  webhook: {{secret: {secret}, max_attempts: 1, timeout_seconds: 2}}
"""


def run(tmp_path: Path, hook: str, *args: str) -> Result:
    path = tmp_path / "tocsin.yaml"
    path.write_text(textwrap.dedent(CONFIG.format(hook=hook, secret=SECRET)), encoding="utf-8")
    return CliRunner().invoke(app, ["user", "test-page", *args, "--config", str(path)])


def test_a_delivered_test_page_exits_0(tmp_path: Path) -> None:
    with WebhookReceiver(SECRET) as receiver:
        result = run(tmp_path, receiver.url("/pages/alice"), "alice", "webhook")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("test page delivered to Alice via webhook (http://127.0.0.1")
    [request] = receiver.requests
    assert request.path == "/pages/alice"
    assert request.signature_valid
    assert request.json["alert"]["status"] == "test"
    assert request.json["ack_url"] is None


def test_a_failed_test_page_exits_1_with_the_reason(tmp_path: Path) -> None:
    with WebhookReceiver(SECRET) as receiver:
        receiver.fail_next(1, status=410)
        result = run(tmp_path, receiver.url("/pages/alice"), "alice", "webhook")

    assert result.exit_code == 1
    assert "test page to Alice via webhook" in result.stderr
    assert "failed: " in result.stderr and "410" in result.stderr


def test_a_missing_contact_names_the_fix(tmp_path: Path) -> None:
    result = run(tmp_path, "http://127.0.0.1:9/unused", "bob", "slack")

    assert result.exit_code == 1
    assert result.stderr == (
        "tocsin: bob has no slack contact (contacts: none); "
        "fix: add contacts.slack to bob in the config\n")


def test_a_channel_without_a_provider_names_the_fix(tmp_path: Path) -> None:
    result = run(tmp_path, "http://127.0.0.1:9/unused", "alice", "sms")

    assert result.exit_code == 1
    assert result.stderr == (
        "tocsin: no twilio provider is configured, so sms cannot be sent; "
        "fix: add notifications.twilio to the config\n")


def test_the_console_always_works(tmp_path: Path) -> None:
    result = run(tmp_path, "http://127.0.0.1:9/unused", "bob", "console")

    assert result.exit_code == 0, result.output
    assert "Test page from Tocsin for Bob via console" in result.stdout
    assert "test page delivered to Bob via console (bob)" in result.stdout
