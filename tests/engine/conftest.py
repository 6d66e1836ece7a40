from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.harness import Harness
from tocsin.clock import FakeClock

BASE_CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {webhook: "http://hooks.test/alice"}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/bob"}}
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}
  - {id: dave, name: Dave, contacts: {webhook: "http://hooks.test/dave"}}
  - {id: erin, name: Erin, contacts: {webhook: "http://hooks.test/erin"}}
  - {id: frank, name: Frank}
schedules:
  - name: primary
    rotation: daily
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
  - name: secondary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [carol]
  - name: future
    rotation: daily
    start_date: 2030-01-01
    participants: [bob]
notifications:
  webhook: {secret: test-webhook-secret}
  fallback: [dave]
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
"""


@pytest.fixture
def make_harness(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> Iterator[Callable[[str], Harness]]:
    made: list[Harness] = []

    def make(extra_yaml: str) -> Harness:
        harness = Harness(tmp_path, db_url, clock, BASE_CONFIG + extra_yaml)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
