"""`notification_rules` on a user: per urgency, which contact and after how long."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, load, only_error
from tocsin.config.model import NotificationRule

ALICE = "name: Alice}"


def with_rules(rules: str, contacts: str = 'slack: U012, sms: "+15550100"') -> str:
    return BASE.replace(ALICE, f"name: Alice, contacts: {{{contacts}}},\n"
                               f"      notification_rules: {rules}}}") + """\
notifications:
  slack: {token: xoxb-1}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
"""


def test_rules_load_sorted_by_delay_and_low_follows_high(tmp_path: Path) -> None:
    rules = "{high: [{channel: sms, after_minutes: 2}, {channel: slack, after_minutes: 0}]}"
    config, warnings = load(tmp_path, with_rules(rules))

    alice = config.users["alice"]
    expected = (NotificationRule("slack", 0), NotificationRule("sms", 2))
    assert alice.rules_for("high") == expected
    assert alice.rules_for("low") == expected
    assert config.users["bob"].rules_for("high") == ()
    assert warnings == []


def test_after_minutes_defaults_to_at_once(tmp_path: Path) -> None:
    config, _ = load(tmp_path, with_rules("{low: [{channel: slack}]}"))

    assert config.users["alice"].rules_for("low") == (NotificationRule("slack", 0),)
    assert config.users["alice"].rules_for("high") == ()


def test_a_channel_the_user_has_no_contact_for_is_an_error(tmp_path: Path) -> None:
    problem = only_error(tmp_path, with_rules("{high: [{channel: phone, after_minutes: 5}]}"))

    assert problem.path == "users[0].notification_rules.high[0].channel"
    assert problem.message == "'phone' is not one of this user's contacts"
    assert problem.fix == "add contacts.phone, or use a contact the user has (slack, sms)"


def test_an_unknown_channel_is_an_error_naming_the_choices(tmp_path: Path) -> None:
    problem = only_error(tmp_path, with_rules("{high: [{channel: pager}]}"))

    assert problem.path == "users[0].notification_rules.high[0].channel"
    assert "must be slack, phone, sms, email, webhook or pagerduty" in problem.message


def test_delays_are_limited_to_a_day(tmp_path: Path) -> None:
    found = errors(tmp_path, with_rules(
        "{high: [{channel: slack, after_minutes: -1}, {channel: sms, after_minutes: 1441}]}"))

    assert [(p.path, p.message) for p in found] == [
        ("users[0].notification_rules.high[0].after_minutes", "must be 0 or more, got -1"),
        ("users[0].notification_rules.high[1].after_minutes", "must be at most 1440, got 1441"),
    ]


def test_an_empty_list_and_a_missing_channel_are_errors(tmp_path: Path) -> None:
    found = errors(tmp_path, with_rules("{high: [], low: [{after_minutes: 1}]}"))

    assert [(p.path, p.fix) for p in found] == [
        ("users[0].notification_rules.high",
         "list at least one {channel, after_minutes}, or remove the key"),
        ("users[0].notification_rules.low[0].channel", "add channel: slack"),
    ]


def test_a_rule_on_a_channel_without_a_provider_is_a_warning(tmp_path: Path) -> None:
    text = BASE.replace(ALICE, "name: Alice, contacts: {sms: '+15550100'},\n"
                               "      notification_rules: {high: [{channel: sms}]}}")
    _config, warnings = load(tmp_path, text)

    assert [(w.path, w.message) for w in warnings] == [
        ("users[0].contacts.sms",
         "no twilio provider is configured, so pages to this user skip it"),
        ("users[0].notification_rules.high[0].channel",
         "no twilio provider is configured, so rules on this channel skip it"),
    ]
