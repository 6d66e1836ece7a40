"""Two users with one number or one Slack member id: `tocsin check` warns, naming both.

A reply from a shared number is credited to the first user listed with it,
so the second person's answers would be recorded as the first's. A shared
team phone is legitimate: this is a warning and the file still loads.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.config.helpers import load, write
from tocsin.cli.main import app

SCHEDULE = """\
schedules:
  - name: primary
    rotation: weekly
    participants: [alice, bob]
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
routes:
  - notify: critical
notifications:
  slack: {token: xoxb-test}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
"""


def _users(alice: str, bob: str, carol: str = "{}") -> str:
    return ("users:\n"
            f"  - {{id: alice, name: Alice, contacts: {alice}}}\n"
            f"  - {{id: bob, name: Bob, contacts: {bob}}}\n"
            f"  - {{id: carol, name: Carol, contacts: {carol}}}\n") + SCHEDULE


def test_one_sms_number_written_two_ways_is_warned_of_with_both_users(tmp_path: Path):
    text = _users('{sms: "+1 555 0100"}', '{sms: "+15550100"}')

    config, warnings = load(tmp_path, text)

    assert [w.format() for w in warnings] == [
        f"{tmp_path / 'tocsin.yaml'}:3: users[1].contacts.sms: warning: bob's sms number "
        "'+15550100' is also alice's sms (line 2): a reply from this number acts as the first "
        "listed user, alice; fix: give each person their own contact"]
    assert set(config.users) == {"alice", "bob", "carol"}


def test_one_slack_member_id_is_warned_of(tmp_path: Path):
    _, warnings = load(tmp_path, _users("{slack: U0ALICE}", "{}", "{slack: U0ALICE}"))

    assert [(w.line, w.path, w.message) for w in warnings] == [
        (4, "users[2].contacts.slack",
         "carol's Slack member id 'U0ALICE' is also alice's slack (line 2): a click from this "
         "Slack member acts as the first listed user, alice")]


def test_a_phone_shared_with_an_sms_is_warned_of(tmp_path: Path):
    _, warnings = load(tmp_path, _users('{phone: "+15550111"}', '{sms: "+1 555 0111"}'))

    assert [(w.line, w.path, w.message) for w in warnings] == [
        (3, "users[1].contacts.sms",
         "bob's sms number '+1 555 0111' is also alice's phone (line 2): both people's pages "
         "go to this one phone")]


def test_one_persons_own_sms_and_phone_and_distinct_contacts_are_fine(tmp_path: Path):
    text = _users('{sms: "+15550100", phone: "+1 555 0100", slack: U0ALICE}',
                  '{sms: "+15550111", slack: U0BOB}')

    _, warnings = load(tmp_path, text)

    assert warnings == []


def test_tocsin_check_prints_the_warning_and_passes(tmp_path: Path):
    path = write(tmp_path, _users('{sms: "+15550100"}', '{sms: "+1 555 0100"}'))

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 0, result.output
    assert (f"{path}:3: users[1].contacts.sms: warning: bob's sms number '+1 555 0100' is also "
            "alice's sms (line 2): a reply from this number acts as the first listed user, "
            "alice; fix: give each person their own contact") in result.output
