"""Users by id or e-mail, implicit users, and one set of names for everything paged."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error
from tocsin.config.model import Target, User


def test_a_bare_email_address_is_an_implicit_user(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: [alice, erin@company.com]")
    config, _ = load(tmp_path, text)

    assert config.schedules["primary"].layers[0].participants == ("alice", "erin@company.com")
    assert config.users["erin@company.com"] == User(
        id="erin@company.com",
        email="erin@company.com",
        implicit=True,
        contacts={"email": "erin@company.com"},
    )


def test_a_defined_user_may_be_named_by_email(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: [bob@company.com, alice]")
    config, _ = load(tmp_path, text)

    assert config.schedules["primary"].layers[0].participants == ("bob", "alice")
    assert not any(user.implicit for user in config.users.values())


def test_targets_fallback_members_and_tokens_accept_emails(tmp_path: Path) -> None:
    text = (
        BASE.replace("targets: [bob]", "targets: [ops@company.com]")
        + """\
teams:
  - {name: payments, members: [alice@company.com, ops@company.com]}
notifications:
  fallback: [lead@company.com]
api_tokens:
  - {name: ci, token: t0k3n, user: bob@company.com}
"""
    )
    config, _ = load(tmp_path, text)

    steps = config.escalation_policies["critical"].steps
    assert steps[1].targets == (Target("user", "ops@company.com"),)
    assert config.teams["payments"].members == ("alice", "ops@company.com")
    assert config.notifications.fallback == ("lead@company.com",)
    assert config.api_tokens[0].user == "bob"
    assert config.api_tokens[0].scope == "write"
    assert {u.id for u in config.users.values() if u.implicit} == {
        "ops@company.com",
        "lead@company.com",
    }


def test_an_unknown_plain_name_as_participant_is_an_unknown_user(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: [alice, bobby]")
    problem = only_error(tmp_path, text)

    assert problem.path == "schedules[0].participants[1]"
    assert problem.message == "unknown user 'bobby': no user has that name"
    assert "did you mean 'bob'?" in problem.fix


def test_a_schedule_is_not_a_participant(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: [alice, critical]")
    problem = only_error(tmp_path, text)

    assert problem.path == "schedules[0].participants[1]"
    assert problem.message.startswith("'critical' is an escalation policy (line ")
    assert "a participant must be a user" in problem.message
    assert problem.fix == "name users here"


def test_schedule_and_user_names_must_not_collide(tmp_path: Path) -> None:
    text = BASE.replace("  - name: primary\n", "  - name: alice\n").replace(
        "targets: [primary]", "targets: [alice]"
    )
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "  - name: alice")
    assert problem.path == "schedules[0].name"
    assert problem.message == (
        f"duplicate name 'alice': a user at line {line_of(text, 'id: alice')} has it"
    )


def test_a_user_email_collides_with_another_users_email(tmp_path: Path) -> None:
    text = BASE.replace("bob@company.com", "alice@company.com")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "id: bob")
    assert problem.path == "users[1].email"
    assert "duplicate name 'alice@company.com': a user at line 2" in problem.message


def test_the_later_of_two_clashing_definitions_is_reported(tmp_path: Path) -> None:
    # Teams come after users in the file; the team's line is the one reported.
    text = "teams:\n  - {name: bob}\n" + BASE
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "id: bob")
    assert problem.message == "duplicate name 'bob': a team at line 2 has it"


def test_user_ids_must_be_unique(tmp_path: Path) -> None:
    text = BASE.replace("schedules:", "  - {id: alice, name: Alice Again}\nschedules:")
    found = errors(tmp_path, text)

    assert [(p.line, p.path) for p in found] == [(4, "users[2].id")]
    assert found[0].message == "duplicate name 'alice': a user at line 2 has it"


def test_user_email_must_look_like_an_address(tmp_path: Path) -> None:
    text = BASE.replace("email: bob@company.com", "email: bob")
    problem = only_error(tmp_path, text)

    assert problem.path == "users[1].email"
    assert problem.message == "'bob' is not an e-mail address"


def test_user_timezone_is_checked(tmp_path: Path) -> None:
    text = BASE.replace("name: Bob}", "name: Bob, timezone: Europe/Londn}")
    problem = only_error(tmp_path, text)

    assert problem.path == "users[1].timezone"
    assert problem.fix == "use an IANA name such as Europe/London"
