"""Reading a text reply to a page: the verbs, their long words, and what is not a reply."""

from __future__ import annotations

import pytest

from tocsin.alerts.reply_rules import (
    ACK,
    ESCALATE,
    RESOLVE,
    SNOOZE,
    UNACK,
    Reply,
    parse_reply,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("ACK 42", Reply(ACK, 42)),
    ("ack 42", Reply(ACK, 42)),
    ("Acknowledge #42.", Reply(ACK, 42)),
    ("  ack#42  ", Reply(ACK, 42)),
    ("RES 42", Reply(RESOLVE, 42)),
    ("resolve # 42!", Reply(RESOLVE, 42)),
    ("ESC 42", Reply(ESCALATE, 42)),
    ("Escalate 42.", Reply(ESCALATE, 42)),
    ("UNACK 42", Reply(UNACK, 42)),
    ("unacknowledge #42", Reply(UNACK, 42)),
    ("SNOOZE 42", Reply(SNOOZE, 42, 30)),
    ("snooze #42 15", Reply(SNOOZE, 42, 15)),
    ("Snooze 42 240 min.", Reply(SNOOZE, 42, 240)),
    ("snooze 42 45m", Reply(SNOOZE, 42, 45)),
])
def test_each_verb_reads_with_its_number(text: str, expected: Reply):
    assert parse_reply(text) == expected


@pytest.mark.parametrize(("text", "verb"), [
    ("ACK", ACK), ("resolve.", RESOLVE), (" Snooze ", SNOOZE), ("esc", ESCALATE),
    ("UNACK", UNACK),
])
def test_a_verb_alone_names_no_alert(text: str, verb: str):
    assert parse_reply(text) == Reply(verb, None)


def test_the_first_number_is_always_the_alert():
    assert parse_reply("SNOOZE 30") == Reply(SNOOZE, 30, 30)


@pytest.mark.parametrize("text", [
    "", "on it", "ok 42", "ACK 42 30", "ESC 42 5", "ACK forty-two", "ACK 42 please",
    "ACK -42", "SNOOZE 42 30 60", "ACK 1234567890123", "STOP",
])
def test_anything_else_is_not_a_reply(text: str):
    assert parse_reply(text) is None
