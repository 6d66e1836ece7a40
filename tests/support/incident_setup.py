"""A Tocsin process with services, schedules, severities and stakeholders for incidents.

Test modules make their fixtures from `start` and `runner` (kept out of a conftest,
which the Slack tests in tests/incidents/ may have their own of).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.incidents.slack_tasks import CANCELLED_NOTE
from tocsin.incidents.store import SlackTask

INCIDENT_CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {webhook: "http://hooks.test/alice", slack: UALICE}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/bob", slack: UBOB}}
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}
  - {id: vp, name: Vera, contacts: {webhook: "http://hooks.test/vp", slack: UVP}}
  - {id: sam, name: Sam, contacts: {webhook: "http://hooks.test/sam", slack: USAM}}
teams:
  - {name: leadership, members: [vp]}
schedules:
  - {name: primary, rotation: daily, start_date: 2026-03-01, participants: [alice]}
  - {name: commanders, rotation: daily, start_date: 2026-03-01, participants: [carol]}
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 5}
services:
  - {name: payment, escalation_policy: critical}
  - {name: search}
routes:
  - {notify: critical}
integrations:
  - {name: prom, type: alertmanager, key: prom-key-for-incidents, service: payment}
notifications:
  webhook: {secret: incident-test-webhook-secret}
  slack: {token: xoxb-incident-tests, api_url: "http://127.0.0.1:9/api/"}
severities:
  - {name: SEV1, target_mttr_minutes: 30, notify: [leadership]}
  - {name: SEV2, target_mttr_minutes: 60}
  - {name: SEV3, target_mttr_minutes: 240}
  - {name: SEV4, target_mttr_minutes: 1440, urgency: low}
incidents:
  stakeholders:
    - {services: [payment], users: [sam], slack_channels: [CSTATUS]}
    - {severities: [SEV1], slack_channels: [CEXEC]}
"""

T = TypeVar("T")


@contextmanager
def start(tmp_path: Path, db_url: str, clock: FakeClock,
          config: str = INCIDENT_CONFIG) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, config)
    try:
        yield made
    finally:
        made.close()


def runner(harness: Harness) -> Callable[[Callable[[Session], T]], T]:
    """Run `work(session)` in one committed transaction, then let the engine run."""

    def run(work: Callable[[Session], T]) -> T:
        with transaction(harness.runtime.sessions) as session:
            result = work(session)
            session.flush()
        harness.runtime.engine.run_due()
        return result

    return run


def tasks(harness: Harness, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(kind, payload) of every Slack task not cancelled, in the order the worker sends them.

    The config's Slack API is a closed port: the worker's attempts fail and the rows stay.
    """
    with harness.runtime.sessions() as session:
        query = select(SlackTask).where(or_(SlackTask.error.is_(None),
                                            SlackTask.error != CANCELLED_NOTE))
        rows = list(session.scalars(query.order_by(SlackTask.id)))
    return [(row.kind, json.loads(row.payload)) for row in rows
            if kind is None or row.kind == kind]
