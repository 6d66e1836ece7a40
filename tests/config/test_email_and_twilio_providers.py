"""`notifications.email` (SMTP) and `notifications.twilio` (SMS and voice) in tocsin.yaml."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error
from tocsin.config.model import EmailProvider, TwilioProvider
from tocsin.engine.runtime import config_secrets
from tocsin.logs import RedactingFilter

CONTACTS = BASE.replace(
    "name: Alice}",
    'name: Alice, contacts: {email: alice@company.com, sms: "+66 81 234 5678", '
    "phone: +15550100}}",
)
EMAIL = """\
notifications:
  email: {host: smtp.example.com, from: "Tocsin <pager@example.com>"}
"""
TWILIO = """\
notifications:
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: "${TWILIO_AUTH_TOKEN}",
           from: "+15005550006"}
"""
ENV = {"TWILIO_AUTH_TOKEN": "tok-123456"}


def test_an_smtp_server_needs_only_host_and_from(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, CONTACTS + EMAIL)

    assert config.notifications.email == EmailProvider(
        host="smtp.example.com", sender="Tocsin <pager@example.com>", port=587,
        security="starttls", username=None, password=None, timeout_seconds=10.0,
    )
    assert "email" in config.notifications.real_channels
    assert [w.path for w in warnings] == ["users[0].contacts.sms", "users[0].contacts.phone"]


def test_the_port_follows_the_security_unless_written(tmp_path: Path) -> None:
    for extra, port in (("security: tls", 465), ("security: none", 25),
                        ("security: tls, port: 2465", 2465), ("port: 2525", 2525)):
        text = BASE + EMAIL.replace("from:", f"{extra}, from:")
        config, _ = load(tmp_path, text)
        assert config.notifications.email is not None
        assert config.notifications.email.port == port, extra


def test_a_twilio_account_sends_sms_and_phone(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, CONTACTS + TWILIO, ENV)

    assert config.notifications.twilio == TwilioProvider(
        account_sid="AC0123456789abcdef0123456789abcdef", auth_token="tok-123456",
        sender="+15005550006",
        api_url="https://api.twilio.com", status_callback_url=None, timeout_seconds=10.0,
    )
    assert config.notifications.real_channels == ("sms", "phone")
    assert [w.path for w in warnings] == ["users[0].contacts.email"]


def test_both_providers_silence_every_contact_warning(tmp_path: Path) -> None:
    both = EMAIL + TWILIO.removeprefix("notifications:\n")
    _, warnings = load(tmp_path, CONTACTS + both, ENV)
    assert warnings == []


def test_missing_keys_are_named_with_an_example(tmp_path: Path) -> None:
    text = BASE + "notifications:\n  email: {port: 25}\n  twilio: {from: '+15005550006'}\n"
    found = {(p.path, p.message, p.fix) for p in errors(tmp_path, text)}
    assert found == {
        ("notifications.email.host", "missing required key 'host'",
         "add host: smtp.example.com"),
        ("notifications.email.from", "missing required key 'from'",
         'add from: "Tocsin <pager@example.com>"'),
        ("notifications.twilio.account_sid", "missing required key 'account_sid'",
         'add account_sid: "${TWILIO_ACCOUNT_SID}"'),
        ("notifications.twilio.auth_token", "missing required key 'auth_token'",
         'add auth_token: "${TWILIO_AUTH_TOKEN}"'),
    }


def test_a_login_needs_both_halves(tmp_path: Path) -> None:
    text = BASE + EMAIL.replace("from:", "username: tocsin, from:")
    problem = only_error(tmp_path, text)
    assert problem.path == "notifications.email.password"
    assert problem.message == "username and password go together; password is missing"
    assert problem.fix == "add password, or remove the other to send without logging in"


def test_a_password_is_never_sent_in_clear_and_never_echoed(tmp_path: Path) -> None:
    text = BASE + EMAIL.replace(
        "from:", 'security: none, username: tocsin, password: "hunter2-smtp", from:')
    problem = only_error(tmp_path, text)
    assert problem.path == "notifications.email.security"
    assert problem.line == line_of(text, "email: {host")
    assert problem.message == "security: none would send the SMTP password unencrypted"
    assert problem.fix.startswith("use security: starttls (port 587) or tls (port 465)")
    assert "hunter2" not in problem.format()


def test_bad_values_name_the_field_and_the_fix(tmp_path: Path) -> None:
    cases = [
        (EMAIL.replace("smtp.example.com", "smtp://smtp.example.com:587"),
         "notifications.email.host", "write the server's name alone, such as smtp.example.com"),
        (EMAIL.replace('"Tocsin <pager@example.com>"', '"a@example.com, b@example.com"'),
         "notifications.email.from", 'write it as pager@example.com or "Tocsin <pager@'),
        (EMAIL.replace("from:", "security: starttsl, from:"),
         "notifications.email.security", "did you mean 'starttls'?"),
        (TWILIO.replace('"+15005550006"', '"555-0100"'),
         "notifications.twilio.from", 'write + then the country code and number'),
        (TWILIO.replace("AC0123456789abcdef0123456789abcdef", "AC/../x"),
         "notifications.twilio.account_sid", "copy the Account SID (AC...)"),
        (TWILIO.replace("from:", "api_url: api.twilio.com, from:"),
         "notifications.twilio.api_url", "write it as https://host/"),
    ]
    for notifications, path, fix in cases:
        problem = only_error(tmp_path, BASE + notifications, ENV)
        assert problem.path == path, notifications
        assert problem.fix.startswith(fix), problem.fix


def test_a_from_address_cannot_smuggle_a_second_header(tmp_path: Path) -> None:
    text = BASE + EMAIL.replace('"Tocsin <pager@example.com>"',
                                '"Tocsin <pager@example.com>\\nBcc: all@example.com"')
    problem = only_error(tmp_path, text)
    assert problem.path == "notifications.email.from"


def test_with_twilio_a_number_it_cannot_dial_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("name: Alice}", "name: Alice, contacts: {sms: '0812345678'}}") + TWILIO
    problem = only_error(tmp_path, text, ENV)
    assert problem.path == "users[0].contacts.sms"
    assert problem.message == "'0812345678' is not a phone number in E.164 form"
    assert problem.fix == 'write + then the country code and number, such as "+15550100"'


def test_without_twilio_a_local_number_is_only_a_warning(tmp_path: Path) -> None:
    text = BASE.replace("name: Alice}", "name: Alice, contacts: {sms: '0812345678'}}")
    config, warnings = load(tmp_path, text)
    assert config.users["alice"].contacts == {"sms": "0812345678"}
    assert [w.message for w in warnings] == [
        "no twilio provider is configured, so pages to this user skip it"]


def test_with_smtp_an_email_contact_must_be_an_address(tmp_path: Path) -> None:
    text = BASE.replace("name: Alice}", "name: Alice, contacts: {email: alice}}") + EMAIL
    problem = only_error(tmp_path, text)
    assert (problem.path, problem.message) == ("users[0].contacts.email",
                                               "'alice' is not an e-mail address")


def test_route_channels_sms_and_phone_need_twilio(tmp_path: Path) -> None:
    text = BASE.replace("  - notify: critical\n",
                        "  - notify: critical\n    channels: [sms, phone, email]\n") + EMAIL
    _, warnings = load(tmp_path, text)
    assert [(w.path, w.fix) for w in warnings] == [
        ("routes[0].channels[0]", "add notifications.twilio, or remove sms here"),
        ("routes[0].channels[1]", "add notifications.twilio, or remove phone here"),
    ]


def test_the_smtp_password_and_twilio_token_are_masked_in_every_log_line(tmp_path: Path) -> None:
    text = BASE + EMAIL.replace("from:", 'username: tocsin, password: "smtp-pw-9z8y", from:')
    text += TWILIO.removeprefix("notifications:\n")
    config, _ = load(tmp_path, text, ENV)

    redactor = RedactingFilter()
    redactor.set_secrets(config_secrets(config))

    line = "login smtp-pw-9z8y then token tok-123456"
    assert redactor.redact(line) == "login *** then token ***"
