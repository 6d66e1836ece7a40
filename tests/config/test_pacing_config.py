"""`notifications.failover_after_minutes` and `notifications.rate_limits`, good and bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, load, only_error
from tocsin.config.model import CONTACT_CHANNELS, RateLimit

TWILIO = """\
notifications:
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
"""


def with_pacing(lines: str) -> str:
    return BASE + TWILIO + "".join(f"  {line}\n" for line in lines.splitlines())


def test_without_the_keys_pages_fail_over_after_2_minutes_and_have_no_limit(
    tmp_path: Path,
) -> None:
    config, warnings = load(tmp_path, BASE + TWILIO)

    assert config.notifications.failover_after_minutes == 2
    assert config.notifications.rate_limits == ()
    assert config.notifications.rate_limit("sms") is None
    assert warnings == []


def test_both_keys_are_read(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, with_pacing(
        "failover_after_minutes: 3.5\n"
        "rate_limits:\n"
        "  sms: {messages: 1, per_minutes: 1}\n"
        "  phone: {messages: 2, per_minutes: 5}"))

    assert config.notifications.failover_after_minutes == 3.5
    assert config.notifications.rate_limit("sms") == RateLimit("sms", 1, 1)
    assert config.notifications.rate_limit("phone") == RateLimit("phone", 2, 5)
    assert config.notifications.rate_limit("email") is None
    assert warnings == []


def test_a_failover_time_under_a_minute_is_a_warning(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, with_pacing("failover_after_minutes: 0.5"))

    assert config.notifications.failover_after_minutes == 0.5
    assert [w.format() for w in warnings] == [
        f"{tmp_path / 'tocsin.yaml'}:17: notifications.failover_after_minutes: warning: "
        "0.5 minutes is under one minute; fix: fine in tests; use whole minutes in production"]


MISTAKES = [
    ("failover_after_minutes: 0", 17, "notifications.failover_after_minutes",
     "must be more than 0, got 0", "write a number, more than 0"),
    ("failover_after_minutes: 2000", 17, "notifications.failover_after_minutes",
     "must be at most 1440, got 2000", "write a number up to 1440"),
    ('failover_after_minutes: "2"', 17, "notifications.failover_after_minutes",
     "wrong type: expected a number, got the string '2'", "remove the quotes: 2"),
    ("rate_limits:\n  fax: {messages: 1, per_minutes: 1}", 18, "notifications.rate_limits.fax",
     "unknown key 'fax'", f"use one of: {', '.join(CONTACT_CHANNELS)}"),
    ("rate_limits:\n  smss: {messages: 1, per_minutes: 1}", 18,
     "notifications.rate_limits.smss",
     "unknown key 'smss'", "did you mean 'sms'?"),
    ("rate_limits:\n  sms: {per_minutes: 1}", 18, "notifications.rate_limits.sms.messages",
     "missing required key 'messages'", "add messages: 1"),
    ("rate_limits:\n  sms: {messages: 1}", 18, "notifications.rate_limits.sms.per_minutes",
     "missing required key 'per_minutes'", "add per_minutes: 1"),
    ("rate_limits:\n  sms: {messages: 0, per_minutes: 1}", 18,
     "notifications.rate_limits.sms.messages", "must be 1 or more, got 0",
     "write a whole number, 1 or more"),
    ("rate_limits:\n  sms: {messages: 1.5, per_minutes: 1}", 18,
     "notifications.rate_limits.sms.messages", "wrong type: expected a whole number, got '1.5'",
     "write a number such as 5"),
    ("rate_limits:\n  sms: {messages: 1, per_minutes: 0}", 18,
     "notifications.rate_limits.sms.per_minutes", "must be more than 0, got 0",
     "write a number, more than 0"),
    ("rate_limits:\n  sms: 1", 18, "notifications.rate_limits.sms",
     "wrong type: expected a mapping of keys, got '1'", "write key: value pairs under it"),
]


@pytest.mark.parametrize(("written", "line", "path", "message", "fix"), MISTAKES,
                         ids=[m[0].splitlines()[-1] for m in MISTAKES])
def test_mistakes_name_the_field_and_the_fix(
    tmp_path: Path, written: str, line: int, path: str, message: str, fix: str,
) -> None:
    problem = only_error(tmp_path, with_pacing(written))

    assert problem.format() == f"{tmp_path / 'tocsin.yaml'}:{line}: {path}: {message}; fix: {fix}"
