"""Typos in who is paged: an address no user has, a participant listed twice.

Both are warnings, not errors: a team may page an address on purpose, or
give someone extra turns. The file still loads; `check` says what happens.
"""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, line_of, load, warnings_at
from tocsin.config.loader import Problem

UNLISTED = "e-mail-only person"
REPEATED = "already a participant of this rotation"

# BASE's users with dave added, so the typo below has a near miss.
WITH_DAVE = BASE.replace(
    "schedules:", "  - {id: dave, email: dave@company.com, name: Dave}\nschedules:"
)


def _about(warnings: list[Problem], words: str) -> list[Problem]:
    return [w for w in warnings if words in w.message]


def test_a_typo_of_a_users_email_is_warned_with_the_address_meant(tmp_path: Path) -> None:
    text = WITH_DAVE.replace("participants: [alice, bob]", "participants: [alice, dave@compny.com]")
    config, warnings = load(tmp_path, text)

    [warning] = _about(warnings, UNLISTED)
    assert (warning.line, warning.path) == (
        line_of(text, "dave@compny.com"), "schedules[0].participants[1]")
    assert warning.message == (
        "'dave@compny.com' is not the e-mail of any user (closest: dave@company.com, user dave), "
        "so it will be paged as an e-mail-only person instead of dave")
    assert warning.fix == (
        "correct it to dave@company.com, or add dave@compny.com under users: if it is meant")
    # Still a warning: the address is paged as written.
    assert config.schedules["primary"].layers[0].participants == ("alice", "dave@compny.com")
    assert config.users["dave@compny.com"].implicit


def test_an_address_like_no_user_says_how_it_is_paged_and_the_fix(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: [alice, ops@company.com]")
    _, warnings = load(tmp_path, text)

    # ops@ shares only the domain with bob@company.com: no user is offered.
    assert _about(warnings, UNLISTED) == [Problem(
        str(tmp_path / "tocsin.yaml"), line_of(text, "ops@company.com"),
        "schedules[0].participants[1]",
        "'ops@company.com' is not the e-mail of any user under users:, so it will be paged "
        "as an e-mail-only person",
        "add it under users: or correct it", "warning")]


def test_an_address_whose_name_is_a_users_id_offers_that_user(tmp_path: Path) -> None:
    # Users listed without e-mails: bob@company.com most likely means user bob.
    text = BASE.replace(", email: alice@company.com", "").replace(
        ", email: bob@company.com", "").replace("participants: [alice, bob]",
                                                "participants: [alice, bob@company.com]")
    _, warnings = load(tmp_path, text)

    [warning] = _about(warnings, UNLISTED)
    assert warning.path == "schedules[0].participants[1]"
    assert warning.fix == "write bob if user bob is meant, or add it under users: or correct it"


def test_an_address_in_other_case_is_warned_with_the_users_spelling(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: [Alice@Company.com, bob]")
    _, warnings = load(tmp_path, text)

    [warning] = _about(warnings, UNLISTED)
    assert "(closest: alice@company.com, user alice)" in warning.message


def test_every_place_that_pages_a_person_warns_of_an_unlisted_address(tmp_path: Path) -> None:
    text = """\
    users:
      - {id: dave, email: dave@company.com}
    teams:
      - {name: payments, members: [dave, dave@compny.com]}
    schedules:
      - name: primary
        rotation: weekly
        participants: [dave]
        overrides:
          - {user: dave@compny.com, start: 2026-03-02T09:00, end: 2026-03-03T09:00}
    escalation_policies:
      - name: critical
        steps:
          - {targets: [primary], timeout_minutes: 5}
          - {targets: [dave@compny.com], timeout_minutes: 0}
    routes:
      - {match: {team: db}, notify: dave@compny.com}
      - notify: critical
    notifications:
      fallback: [dave@compny.com]
    """
    _, warnings = load(tmp_path, text)

    unlisted = _about(warnings, UNLISTED)
    assert [w.path for w in unlisted] == [
        "teams[0].members[1]",
        "schedules[0].overrides[0].user",
        "escalation_policies[0].steps[1].targets[0]",
        "routes[0].notify",
        "notifications.fallback[0]",
    ]
    assert all(w.fix.startswith("correct it to dave@company.com") for w in unlisted)


def test_a_tokens_user_is_warned_and_a_replaced_address_only_once(tmp_path: Path) -> None:
    text = WITH_DAVE.replace("participants: [alice, bob]", """participants: [alice, bob]
    overrides:
      - {user: dave, replaces: bob@compny.com, start: 2026-03-02, end: 2026-03-03}""") + """\
api_tokens:
  - {name: ci, token: t0k3n, user: dave@compny.com}
"""
    _, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "api_tokens[0].user") == [
        "'dave@compny.com' is not the e-mail of any user (closest: dave@company.com, user dave), "
        "so the token will act as an e-mail-only person instead of dave"]
    # Replacing an address pages nobody: the override's own warning is the one that matters.
    assert warnings_at(warnings, "schedules[0].overrides[0].replaces") == [
        "'bob@compny.com' is not a participant of any layer of this schedule, "
        "so this override never takes effect"]


def test_without_users_every_address_is_a_person_and_nothing_is_warned(tmp_path: Path) -> None:
    text = """\
    schedules:
      - name: primary
        rotation: weekly
        participants: [alice@company.com, bob@company.com]
    escalation_policies:
      - name: critical
        steps:
          - {targets: [primary], timeout_minutes: 5}
          - {targets: [bob@compny.com], timeout_minutes: 0}
    routes:
      - notify: critical
    """
    config, warnings = load(tmp_path, text)

    assert warnings == []
    assert {user.id for user in config.users.values() if user.implicit} == {
        "alice@company.com", "bob@company.com", "bob@compny.com"}


def test_a_user_named_by_their_email_is_not_warned(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]",
                        "participants: [alice@company.com, bob@company.com]")
    _, warnings = load(tmp_path, text)

    assert warnings == []


def test_a_participant_listed_twice_is_warned_with_its_first_place(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: [alice, alice, bob]")
    config, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "schedules[0].participants[1]") == [
        "'alice' is already a participant of this rotation (schedules[0].participants[0], "
        f"line {line_of(text, 'participants:')}): listed 2 times, they take 2 of every 3 "
        "turns instead of one, which changes the rotation order"]
    assert [w.fix for w in _about(warnings, REPEATED)] == [
        "list each person once, unless the extra turns are meant"]
    # A warning only: the rotation is as written.
    assert config.schedules["primary"].layers[0].participants == ("alice", "alice", "bob")


def test_a_participant_listed_by_id_and_by_email_is_listed_twice(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]",
                        "participants: [alice, bob, alice@company.com]")
    _, warnings = load(tmp_path, text)

    [warning] = _about(warnings, REPEATED)
    assert warning.path == "schedules[0].participants[2]"
    assert warning.message.startswith("'alice@company.com' (user alice) is already a participant")


def test_one_person_in_two_layers_is_not_listed_twice(tmp_path: Path) -> None:
    text = BASE.replace(
        "    rotation: weekly\n    participants: [alice, bob]\n",
        "    layers:\n      - {name: days, rotation: weekly, participants: [alice, bob]}\n"
        "      - {name: nights, rotation: daily, participants: [bob, alice]}\n",
    )
    config, warnings = load(tmp_path, text)

    assert len(config.schedules["primary"].layers) == 2
    assert _about(warnings, REPEATED) == []
