"""Who a page can be reassigned to or answered with: the choices and the names a reply types."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, load
from tocsin.alerts.reply_rules import ADD, REASSIGN, Reply, parse_reply
from tocsin.config import answer_targets as targets
from tocsin.config.model import Config, Target


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load(tmp_path, BASE)[0]


def test_reassign_offers_people_and_schedules_and_add_offers_policies_too(config: Config):
    assert [c.code for c in targets.choices(config, targets.REASSIGN_KINDS)] == [
        "u:alice", "u:bob", "s:primary"]
    assert [(c.code, c.label) for c in targets.choices(config, targets.RESPONDER_KINDS)] == [
        ("u:alice", "Alice"), ("u:bob", "Bob"), ("s:primary", "primary"),
        ("p:critical", "critical")]


@pytest.mark.parametrize(("typed", "expected"), [
    ("bob", Target("user", "bob")),
    ("BOB@company.com", Target("user", "bob")),
    (" Primary ", Target("schedule", "primary")),
    ("critical", None),  # a policy cannot be a reassignment's target
    ("dave", None),
    ("", None),
])
def test_a_typed_name_is_a_user_id_or_email_then_a_schedule(config: Config, typed: str,
                                                            expected: Target | None):
    assert targets.named(config, typed, targets.REASSIGN_KINDS) == expected


def test_a_typed_policy_name_is_a_responder(config: Config):
    assert targets.named(config, "critical", targets.RESPONDER_KINDS) == Target(
        "escalation_policy", "critical")


@pytest.mark.parametrize(("code", "expected"), [
    ("u:bob", Target("user", "bob")),
    ("s:primary", Target("schedule", "primary")),
    ("p:critical", None),  # not a reassignment target
    ("u:dave", None),  # not in the config (a menu from before a reload)
    ("bob", None), ("x:bob", None), ("u:", None),
])
def test_a_code_counts_only_for_a_target_the_config_defines(config: Config, code: str,
                                                            expected: Target | None):
    assert targets.from_code(config, code, targets.REASSIGN_KINDS) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("REASSIGN 42 bob", Reply(REASSIGN, 42, target="bob")),
    ("reassign #42 bob.", Reply(REASSIGN, 42, target="bob")),
    ("Reassign primary", Reply(REASSIGN, None, target="primary")),
    ("ADD 42 Payments on-call", Reply(ADD, 42, target="Payments on-call")),
    ("add 42", Reply(ADD, 42)),
    ("ADD", Reply(ADD, None)),
])
def test_reassign_and_add_replies_read_the_alert_then_the_target(text: str,
                                                                 expected: Reply):
    assert parse_reply(text) == expected


@pytest.mark.parametrize("text", ["address 42", "adding 42 bob", "reassigned 42 bob"])
def test_words_that_only_start_with_a_verb_are_not_read(text: str):
    assert parse_reply(text) is None
