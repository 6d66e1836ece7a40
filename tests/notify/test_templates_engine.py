"""Templates from tocsin.yaml reach the real peers through the whole engine: the fake Slack
API, the fake Twilio API and a real SMTP server, all on 127.0.0.1; a reload swaps them."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.fake_slack import FakeSlack
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.fixtures import SLACK_TOKEN
from tests.support.live_channels import LiveHarness
from tests.support.smtp_server import SmtpServer
from tocsin.cli.main import app
from tocsin.clock import FakeClock
from tocsin.logs import record_fields

PEOPLE = """
timezone: UTC
public_url: https://tocsin.example.com
users:
  - id: alice
    name: Alice
    contacts: {CONTACTS}
schedules:
  - {name: primary, rotation: daily, start_date: 2026-03-02, participants: [alice]}
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 30}
routes:
  - {notify: critical}
integrations:
  - {name: prom, type: alertmanager, key: prom-key}
"""


def config(contacts: str, notifications: str) -> str:
    return (PEOPLE.replace("{CONTACTS}", contacts)
            + "notifications:\n" + textwrap.indent(textwrap.dedent(notifications), "  "))


@pytest.fixture
def make_tocsin(
    tmp_path: Path, db_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[str], LiveHarness]]:
    monkeypatch.setenv("TWILIO_TOKEN", AUTH_TOKEN)
    made: list[LiveHarness] = []

    def make(text: str) -> LiveHarness:
        made.append(LiveHarness(tmp_path, db_url, clock, text))
        return made[-1]

    yield make
    for harness in made:
        harness.close()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def test_a_slack_template_reaches_slack_with_its_values_escaped(
    make_tocsin: Callable[[str], LiveHarness], fake_slack: FakeSlack,
) -> None:
    tocsin = make_tocsin(config("{slack: U012ABC}", f"""
        slack: {{token: {SLACK_TOKEN}, api_url: "{fake_slack.base_url}"}}
        templates:
          slack: "<!here> *{{{{ alert.title }}}}* ({{{{ alert.severity }}}})
            for {{{{ user.name }}}}"
    """))
    alert_id = tocsin.fire("disk", title="Disk <full> & slow", severity="critical")
    assert alert_id is not None

    tocsin.advance(1)

    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.params["channel"] == "U012ABC"
    assert call.params["text"] == "<!here> *Disk &lt;full&gt; &amp; slow* (critical) for Alice"
    assert any(block["type"] == "actions" for block in call.params["blocks"])
    assert tocsin.deliveries(alert_id) == [("slack", "sent", "1700000000.000001")]


def test_sms_and_voice_templates_reach_twilio(
    make_tocsin: Callable[[str], LiveHarness], twilio: FakeTwilio,
) -> None:
    tocsin = make_tocsin(config('{sms: "+15550100100", phone: "+15550100100"}', f"""
        twilio: {{account_sid: {ACCOUNT_SID}, auth_token: "${{TWILIO_TOKEN}}",
                  from: "{FROM_NUMBER}", api_url: "{twilio.api_url}", timeout_seconds: 2}}
        templates:
          sms: "{{{{ alert.service }}}} down: {{{{ alert.title }}}}. Reply {{{{ reply.ack }}}}"
          voice: "{{{{ user.name }}}}, {{{{ alert.service }}}} needs you: {{{{ alert.title }}}}."
    """))
    alert_id = tocsin.fire("api", title="Payment API 500s", service="payment")
    assert alert_id is not None

    tocsin.advance(1)

    [text] = twilio.accepted("Messages")
    [call] = twilio.accepted("Calls")
    assert text.form["Body"] == f"payment down: Payment API 500s. Reply ACK {alert_id}"
    assert "<Say loop=\"2\">Alice, payment needs you: Payment API 500s. " in call.form["Twiml"]
    assert "Tocsin alert:" not in call.form["Twiml"]


def test_email_templates_reach_the_smtp_server(
    make_tocsin: Callable[[str], LiveHarness],
) -> None:
    with SmtpServer() as smtp:
        tocsin = make_tocsin(config("{email: alice@example.com}", f"""
            email: {{host: 127.0.0.1, port: {smtp.port}, security: none,
                     from: "Tocsin <pager@tocsin.test>", timeout_seconds: 5}}
            templates:
              email_subject: "[{{{{ alert.service }}}}] {{{{ alert.title }}}}"
              email_body: |
                {{{{ alert.title }}}} fired {{{{ fired_for }}}} ago.
                Acknowledge: {{{{ ack_url }}}}
        """))
        alert_id = tocsin.fire("api", title="Payment API 500s", service="payment")
        assert alert_id is not None

        tocsin.advance(3)

        [mail] = smtp.messages
    assert mail.message["Subject"] == "[payment] Payment API 500s"
    plain = mail.message.get_body(("plain",))
    assert plain is not None
    lines = plain.get_content().splitlines()
    assert lines[0] == "Payment API 500s fired under 1 min ago."
    assert lines[1].startswith("Acknowledge: https://tocsin.example.com/a/")
    assert mail.message.get_body(("html",)) is not None


def test_a_reload_puts_new_templates_to_use_for_the_next_page(
    make_tocsin: Callable[[str], LiveHarness], twilio: FakeTwilio,
) -> None:
    provider = f"""
        twilio: {{account_sid: {ACCOUNT_SID}, auth_token: "${{TWILIO_TOKEN}}",
                  from: "{FROM_NUMBER}", api_url: "{twilio.api_url}", timeout_seconds: 2}}
    """
    tocsin = make_tocsin(config('{sms: "+15550100100"}', provider))
    first = tocsin.fire("one", title="First")
    tocsin.advance(1)

    tocsin.config_path.write_text(textwrap.dedent(config('{sms: "+15550100100"}', provider + """
        templates:
          sms: "NEW {{ alert.title }} {{ reply.ack }}"
    """)), encoding="utf-8")
    tocsin.runtime.config.reload()
    second = tocsin.fire("two", title="Second")
    tocsin.advance(1)

    bodies = [request.form["Body"] for request in twilio.accepted("Messages")]
    assert bodies[0].startswith(f"Tocsin #{first}: First")
    assert bodies[1] == f"NEW Second ACK {second}"


def test_a_test_page_from_the_cli_is_worded_by_the_template(
    tmp_path: Path, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWILIO_TOKEN", AUTH_TOKEN)
    path = tmp_path / "tocsin.yaml"
    path.write_text(textwrap.dedent(config('{sms: "+15550100100"}', f"""
        twilio: {{account_sid: {ACCOUNT_SID}, auth_token: "${{TWILIO_TOKEN}}",
                  from: "{FROM_NUMBER}", api_url: "{twilio.api_url}", timeout_seconds: 2}}
        templates:
          sms: "[{{{{ alert.severity }}}}] {{{{ alert.title }}}} for {{{{ user.name }}}}"
    """)), encoding="utf-8")

    result = CliRunner().invoke(app, ["user", "test-page", "alice", "sms", "--config", str(path)])

    assert result.exit_code == 0, result.output
    [text] = twilio.accepted("Messages")
    assert text.form["Body"].startswith("[test] ")
    assert text.form["Body"].endswith(" for Alice")


def test_a_template_looping_on_a_label_falls_back_without_stopping_the_engine(
    make_tocsin: Callable[[str], LiveHarness], twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The user trial's template: with n=100000 it would loop 10^10 times on the sending thread.
    tocsin = make_tocsin(config('{sms: "+15550100100"}', f"""
        twilio: {{account_sid: {ACCOUNT_SID}, auth_token: "${{TWILIO_TOKEN}}",
                  from: "{FROM_NUMBER}", api_url: "{twilio.api_url}", timeout_seconds: 2}}
        templates:
          sms: "{{% for i in range(alert.labels.n|int) %}}{{% for j in
            range(alert.labels.n|int) %}}{{% endfor %}}{{% endfor %}}{{{{ alert.title }}}}"
    """))
    with caplog.at_level(logging.WARNING, logger="tocsin.notify.templates"):
        heavy = tocsin.fire("heavy", title="Disk full", labels={"n": "100000"})
        tocsin.advance(1)
        light = tocsin.fire("light", title="CPU hot", labels={"n": "3"})
        tocsin.advance(1)

    bodies = [request.form["Body"] for request in twilio.accepted("Messages")]
    assert bodies[0].startswith(f"Tocsin #{heavy}: Disk full")  # the built-in text
    assert bodies[1] == "CPU hot"  # the next page still goes, worded by the template
    [failure] = [record_fields(r) for r in caplog.records
                 if r.getMessage() == "notify.template_failed"]
    assert failure["alert_id"] == heavy
    assert failure["error"] == "TemplateBudgetError"
    assert light is not None
