"""Webhooks racing on the same keys: no deadlock, no lost event, one open alert a key.

Each batch locks the alerts it names in dedup-key order, so batches naming
the same keys in opposite orders queue instead of deadlocking; a batch that
loses the race to open a new key is retried whole.
"""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.web.conftest import Web
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.store import Alert
from tocsin.web import retries
from tocsin.web.integrations import store_events

KEYS = [f"race-{n:03}" for n in range(120)]
ROUNDS = 4


@pytest.mark.timeout(300)
def test_batches_in_opposite_orders_neither_deadlock_nor_lose_events(
    web: Web, monkeypatch: pytest.MonkeyPatch,
) -> None:
    retried: list[str] = []

    def worth_retrying(exc: IntegrityError | OperationalError) -> bool:
        retried.append(str(getattr(exc.orig, "sqlstate", "")))
        return original(exc)

    original = retries.worth_retrying
    monkeypatch.setattr(retries, "worth_retrying", worth_retrying)
    integration = web.runtime.config_now().integrations[0]
    shuffled = random.Random(7).sample(KEYS, len(KEYS))
    orders = [KEYS, KEYS[::-1], shuffled]
    failures: list[BaseException] = []
    start = threading.Barrier(len(orders))

    def send(keys: list[str]) -> None:
        try:
            start.wait()
            for _ in range(ROUNDS):
                events = [IncomingEvent("trigger", key, title=key) for key in keys]
                results = store_events(web.runtime, integration, events)
                assert [r.dedup_key for r in results] == keys
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(keys,)) for keys in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)

    assert failures == []
    assert "40P01" not in retried, "a deadlock: batches locked their alerts in different orders"
    with web.runtime.sessions() as session:
        rows = session.execute(
            select(Alert.dedup_key, func.count(), func.sum(Alert.event_count))
            .group_by(Alert.dedup_key)).all()
    assert len(rows) == len(KEYS)
    assert {(count, events) for _, count, events in rows} == {(1, len(orders) * ROUNDS)}


@pytest.mark.timeout(300)
def test_batches_opening_the_same_new_keys_queue_instead_of_failing(
    web: Web, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A new key has no row to lock; the per-key transaction lock makes the
    # second opener wait and see the first one's alert, so no insert fails
    # on the unique open key and no sender is ever told to retry.
    lost_races: list[str] = []

    def worth_retrying(exc: IntegrityError | OperationalError) -> bool:
        if isinstance(exc, IntegrityError):
            lost_races.append(str(exc.orig))
        return original(exc)

    original = retries.worth_retrying
    monkeypatch.setattr(retries, "worth_retrying", worth_retrying)
    integration = web.runtime.config_now().integrations[0]
    senders = 4
    start = threading.Barrier(senders)
    failures: list[BaseException] = []

    def send(seed: int) -> None:
        try:
            start.wait()
            for round_number in range(ROUNDS):
                keys = [f"new-{round_number}-{n:03}" for n in range(60)]
                random.Random(seed).shuffle(keys)
                store_events(web.runtime, integration,
                             [IncomingEvent("trigger", key, title=key) for key in keys])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(seed,)) for seed in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)

    assert failures == []
    assert lost_races == []
    with web.runtime.sessions() as session:
        counts = session.execute(
            select(func.count(), func.sum(Alert.event_count))).one()
    assert tuple(counts) == (ROUNDS * 60, ROUNDS * 60 * senders)
