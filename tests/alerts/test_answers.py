"""alerts.answers on both databases: which open alerts were texted to a person, and each
verb's sentence, audit row and timeline entry.

The fake clock reads Monday 2026-03-02 03:00 UTC. Alice is texted at step 1,
bob gets a webhook at step 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.harness import Harness
from tocsin.alerts import answers
from tocsin.alerts.reply_rules import ACK, ESCALATE, RESOLVE, SNOOZE, UNACK
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.errors import Conflict, InvalidInput, NotFound

CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice, contacts: {sms: "+15550100"}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/bob"}}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 5}
routes:
  - {notify: critical}
integrations:
  - {name: prom, type: generic, key: generic-key-9a8b7c6d}
notifications:
  webhook: {secret: answers-test-webhook-secret}
  twilio:
    account_sid: AC00000000000000000000000000000001
    auth_token: answers-test-auth-token-5c4b3a
    from: "+15550199"
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, CONFIG)
    yield made
    made.close()


def _fire(harness: Harness, key: str) -> int:
    alert_id = harness.fire(key)
    assert alert_id is not None
    return alert_id


def _answer(harness: Harness, verb: str, alert_id: int, minutes: float = 30,
            actor: str = "alice") -> answers.Answer:
    with transaction(harness.runtime.sessions) as session:
        done = answers.answer(session, config=harness.config, verb=verb, alert_id=alert_id,
                              actor=actor, surface="sms", now=harness.clock.now(),
                              minutes=minutes)
    harness.runtime.engine.run_due()
    return done


def _texted(harness: Harness, user_id: str = "alice") -> list[int]:
    with harness.runtime.sessions() as session:
        return answers.open_texted(session, user_id=user_id)


def _audit(harness: Harness) -> list[tuple[str, str, str]]:
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.action, row.actor, row.surface) for row in rows]


def test_open_texted_lists_open_alerts_most_recently_texted_first(harness: Harness):
    first = _fire(harness, "first")
    harness.advance(1)
    second = _fire(harness, "second")
    harness.advance(1)
    closed = _fire(harness, "closed")
    harness.resolve(closed)

    assert _texted(harness) == [second, first]
    assert _texted(harness, "bob") == []


def test_a_page_again_moves_an_alert_to_the_front(harness: Harness):
    first = _fire(harness, "first")
    harness.advance(1)
    second = _fire(harness, "second")
    _answer(harness, SNOOZE, first, minutes=2)
    harness.advance(2)  # the snooze ends: alice is texted about the first again

    assert _texted(harness) == [first, second]


def test_a_page_by_another_channel_is_not_texted(harness: Harness):
    alert_id = _fire(harness, "only")
    _answer(harness, ESCALATE, alert_id)

    assert [page.user_id for page in harness.channels["webhook"].sent] == ["bob"]
    assert _texted(harness, "bob") == []
    assert _texted(harness) == [alert_id]


def test_each_verb_says_what_happened_and_writes_its_audit_row(harness: Harness):
    alert_id = _fire(harness, "one")

    said = [_answer(harness, verb, alert_id).said for verb in (ACK, UNACK, SNOOZE, ESCALATE,
                                                                RESOLVE)]

    assert said == [
        f"Alert {alert_id} acknowledged.",
        f"Alert {alert_id} unacknowledged; escalation resumes at step 1.",
        f"Alert {alert_id} snoozed until 03:30 UTC.",
        f"Alert {alert_id} escalated to step 2 of critical.",
        f"Alert {alert_id} resolved.",
    ]
    assert _audit(harness) == [
        ("alert.acknowledge", "alice", "sms"), ("alert.unacknowledged", "alice", "sms"),
        ("alert.acknowledge", "alice", "sms"), ("alert.snoozed", "alice", "sms"),
        ("alert.escalated_now", "alice", "sms"), ("alert.resolve", "alice", "sms")]


def test_an_answer_that_changes_nothing_says_so(harness: Harness):
    alert_id = _fire(harness, "one")
    unacked = _answer(harness, UNACK, alert_id)
    _answer(harness, ACK, alert_id, actor="bob")

    acked = _answer(harness, ACK, alert_id)

    assert (unacked.changed, acked.changed) == (False, False)
    assert acked.said == f"Alert {alert_id} was already acknowledged by bob."
    assert _audit(harness) == [("alert.acknowledge", "bob", "sms")]


def test_errors_are_those_of_the_functions_answered_through(harness: Harness):
    alert_id = _fire(harness, "one")

    with pytest.raises(InvalidInput):
        _answer(harness, SNOOZE, alert_id, minutes=0)
    with pytest.raises(NotFound):
        _answer(harness, ACK, alert_id + 100)
    harness.resolve(alert_id)
    with pytest.raises(Conflict, match="already resolved by alice"):
        _answer(harness, ESCALATE, alert_id)
    with pytest.raises(ValueError, match="unknown verb 'delete'"):
        _answer(harness, "delete", alert_id)
    assert _audit(harness) == [("alert.resolve", "alice", "api")]


@pytest.mark.parametrize(("minutes", "until"), [
    (90, "04:30 UTC"), (24 * 60, "Tue 3 Mar 03:00 UTC"),
    (366 * 24 * 60, "Wed 3 Mar 2027 03:00 UTC")])
def test_a_snooze_names_the_day_and_year_only_when_they_differ(harness: Harness, minutes: float,
                                                               until: str):
    alert_id = _fire(harness, "one")

    said = _answer(harness, SNOOZE, alert_id, minutes=minutes).said

    assert said == f"Alert {alert_id} snoozed until {until}."
