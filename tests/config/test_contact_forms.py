"""`tocsin check` refuses Slack ids and a Twilio Account SID that could never work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, load, only_error

SID = "AC0123456789abcdef0123456789abcdef"
SLACK = """\
notifications:
  slack: {token: xoxb-test, signing_secret: test-signing-secret}
"""
TWILIO = """\
notifications:
  twilio: {account_sid: SID, auth_token: tok-123456, from: "+15005550006"API_URL}
"""


def _with_slack(address: str) -> str:
    return BASE.replace("name: Alice}", f"name: Alice, contacts: {{slack: '{address}'}}}}") + SLACK


@pytest.mark.parametrize("address", ["U012AB3CD", "W0123ABCDEF", "C024BE91L", "G0PRIVATE1"])
def test_member_and_channel_ids_load(tmp_path: Path, address: str) -> None:
    config, _warnings = load(tmp_path, _with_slack(address))

    assert config.users["alice"].contacts["slack"] == address


@pytest.mark.parametrize("address", ["@alice", "alice", "u012ab3cd", "#payments", "D0123ABCD",
                                     "U012 AB3CD", "https://x.slack.com/team/U012AB3CD"])
def test_a_slack_contact_that_is_not_an_id_names_the_field_and_the_fix(
        tmp_path: Path, address: str) -> None:
    problem = only_error(tmp_path, _with_slack(address))

    assert problem.path == "users[0].contacts.slack"
    assert problem.message == f"'{address}' is not a Slack member or channel id"
    assert problem.fix.startswith("copy the member ID from the person's Slack profile")


def _twilio(sid: str, api_url: str = "") -> str:
    return BASE + TWILIO.replace("SID", sid).replace("API_URL", api_url)


def test_a_twilio_account_sid_of_ac_and_32_hex_digits_loads(tmp_path: Path) -> None:
    config, _warnings = load(tmp_path, _twilio("AC" + SID[2:].upper()))

    assert config.notifications.twilio is not None


@pytest.mark.parametrize("sid", ["AC0123", SID + "0", SID[:-1] + "g", "SK" + SID[2:],
                                 "tok-secret-123456789"])
def test_a_malformed_account_sid_names_the_field_and_is_not_echoed(tmp_path: Path,
                                                                   sid: str) -> None:
    problem = only_error(tmp_path, _twilio(sid))

    assert problem.path == "notifications.twilio.account_sid"
    assert problem.message == (f"account_sid ({len(sid)} characters) is not a Twilio Account "
                               "SID: AC and 32 hexadecimal digits")
    assert problem.fix.startswith("copy the Account SID from the Twilio console")
    assert sid not in problem.format()


def test_a_compatible_provider_may_use_its_own_account_ids(tmp_path: Path) -> None:
    text = _twilio("project-7f3a", ", api_url: https://sms.example.net")

    config, _warnings = load(tmp_path, text)

    assert config.notifications.twilio is not None
    assert config.notifications.twilio.account_sid == "project-7f3a"


def test_an_explicit_twilio_api_url_is_checked_too(tmp_path: Path) -> None:
    problem = only_error(tmp_path, _twilio("AC0123", ", api_url: https://api.twilio.com"))

    assert problem.path == "notifications.twilio.account_sid"
