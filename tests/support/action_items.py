"""A Tocsin process with users in two zones and a team, for action item tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.incidents import service as incidents

ACTION_CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, timezone: Asia/Bangkok,
     contacts: {webhook: "http://hooks.test/alice", sms: "+15550100"}}
  - {id: bob, name: Bob, email: bob@example.com, timezone: America/New_York,
     contacts: {webhook: "http://hooks.test/bob", slack: UBOB}}
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}
teams:
  - {name: payments, members: [alice, bob]}
notifications:
  webhook: {secret: action-item-webhook-secret}
  slack: {token: xoxb-action-items, api_url: "http://127.0.0.1:9/api/"}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok,
           from: "+15005550006"}
"""


def make_harnesses(tmp_path: Path, db_url: str, clock: FakeClock,
                   extra: str = "") -> Iterator[Callable[[], Harness]]:
    made: list[Harness] = []

    def build() -> Harness:
        made.append(Harness(tmp_path, db_url, clock, ACTION_CONFIG + extra))
        return made[-1]

    yield build
    for harness in made:
        harness.close()


def declare(harness: Harness, title: str = "Checkout errors", *, private: bool = False,
            actor: str = "alice") -> str:
    with transaction(harness.runtime.sessions) as session:
        incident = incidents.declare(session, config=harness.config, title=title,
                                     severity="SEV3", actor=actor, surface="api",
                                     now=harness.clock.now(), private=private)
        return incident.key
