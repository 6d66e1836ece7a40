"""A real Prometheus Alertmanager pages the person on call through Tocsin.

Alerts go into Alertmanager's own API; Alertmanager groups them and posts
its webhook to Tocsin; Tocsin pages whoever the schedule says is on call,
by signed webhook; a resolve in Alertmanager closes the alert in Tocsin.
Replicas of an HA Alertmanager posting the same group at once all get 200.
Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    AM_KEY,
    StartAlertmanager,
    StartTocsin,
    TocsinApi,
    alert_pages,
    pages_for,
    write_config,
)
from tests.support.server import wait_until
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.config.loader import load_config
from tocsin.oncall.rules import oncall_at

pytestmark = pytest.mark.e2e

SUMMARY = "Payment errors ข้อผิดพลาด 支付错误 أخطاء الدفع 🔥"


def _on_call(config_path: Path, at: datetime) -> set[str]:
    config, _warnings = load_config(config_path)
    return {shift.user for shift in oncall_at(config.schedules["primary"], at)}


def _alert(name: str, starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "labels": {"alertname": name, "severity": "critical", "service": "payment",
                   "instance": "pay-1:9100"},
        "annotations": {"summary": SUMMARY, "description": "5xx above 5% for 5 minutes"},
        "startsAt": starts.isoformat(),
        "generatorURL": "http://prometheus.invalid/graph?g0.expr=up",
    }
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    return alert


def _find_alert(api: TocsinApi, name: str) -> dict[str, Any] | None:
    found = [a for a in api.alerts() if a["labels"].get("alertname") == name]
    return found[0] if found else None


def test_alertmanager_pages_the_person_on_call_and_resolves(
    tmp_path: Path, db_url: str, receiver: WebhookReceiver, start_tocsin: StartTocsin,
    start_alertmanager: StartAlertmanager,
) -> None:
    config_path = write_config(tmp_path, receiver.base_url, [("primary", 0)])
    server = start_tocsin(config_path, db_url)
    manager = start_alertmanager(server.url(f"/integrations/{AM_KEY}/alertmanager"))
    name = f"PaymentErrors{uuid.uuid4().hex[:8]}"
    starts = datetime.now(UTC) - timedelta(seconds=30)
    expected = _on_call(config_path, datetime.now(UTC))

    manager.post_alerts([_alert(name, starts)])
    with TocsinApi(server.base_url) as api:
        alert = wait_until(lambda: _find_alert(api, name), timeout=20,
                           message="Alertmanager's webhook to reach Tocsin")
        [page] = wait_until(lambda: pages_for(receiver, alert["id"]), timeout=20,
                            message="the page to reach the webhook receiver")
        expected |= _on_call(config_path, datetime.now(UTC))  # a handoff may have passed

        assert page.signature_valid
        assert page.idempotency_key
        body = page.json
        assert body["event"] == "page"
        assert body["user"]["id"] in expected
        assert page.path == f"/pages/{body['user']['id']}"
        assert body["alert"]["title"] == SUMMARY
        assert body["alert"]["severity"] == "critical"
        assert body["alert"]["service"] == "payment"
        assert len(alert["dedup_key"]) == 16  # Alertmanager's fingerprint

        manager.post_alerts([_alert(name, starts, ends=datetime.now(UTC))])
        closed = wait_until(lambda: _resolved(api, alert["id"]), timeout=20,
                            message="Alertmanager's resolve to close the alert")
        assert closed["resolved_by"] == "integration:prom"
        assert [e["kind"] for e in closed["timeline"]][-1] == "resolved"
    assert len(pages_for(receiver, alert["id"])) == 1, "a resolve must not page anyone"


def _resolved(api: TocsinApi, alert_id: int) -> dict[str, Any] | None:
    detail = api.alert(alert_id)
    return detail if detail["status"] == "resolved" else None


def test_alertmanager_sends_a_group_of_alerts_each_becomes_one_alert(
    tmp_path: Path, receiver: WebhookReceiver, start_tocsin: StartTocsin,
    start_alertmanager: StartAlertmanager,
) -> None:
    config_path = write_config(tmp_path, receiver.base_url, [("primary", 0)])
    server = start_tocsin(config_path, f"sqlite:///{tmp_path / 'tocsin.db'}")
    manager = start_alertmanager(server.url(f"/integrations/{AM_KEY}/alertmanager"))
    name = f"DiskFull{uuid.uuid4().hex[:8]}"
    starts = datetime.now(UTC) - timedelta(seconds=30)
    alerts = [_alert(name, starts) for _ in range(3)]
    for index, alert in enumerate(alerts):
        alert["labels"]["instance"] = f"db-{index}:9100"

    # Posted twice: Alertmanager and Tocsin both deduplicate by label set.
    manager.post_alerts(alerts)
    manager.post_alerts(alerts)
    with TocsinApi(server.base_url) as api:
        wait_until(lambda: _all_named(api, name, 3), timeout=20,
                   message="three alerts from one Alertmanager group")
        ids = {a["id"] for a in _all_named(api, name, 3) or []}
        wait_until(lambda: ids <= {r.json["alert"]["id"] for r in alert_pages(receiver)},
                   timeout=20, message="a page for each of the three alerts")
        found = _all_named(api, name, 0) or []
    assert len(found) == 3
    assert len({a["dedup_key"] for a in found}) == 3
    assert all(a["status"] == "triggered" for a in found)
    assert sorted(len(pages_for(receiver, a["id"])) for a in found) == [1, 1, 1]


def _all_named(api: TocsinApi, name: str, at_least: int) -> list[dict[str, Any]] | None:
    found = [a for a in api.alerts() if a["labels"].get("alertname") == name]
    return found if len(found) >= at_least else None


SENDERS = 4
ROUNDS = 4


def _replica_body(fingerprints: list[str], order_seed: int) -> dict[str, Any]:
    shuffled = random.Random(order_seed).sample(fingerprints, len(fingerprints))
    starts = "2026-12-01T09:00:00Z"
    alerts = [{"status": "firing", "labels": {"alertname": "Replicated", "fp": fp},
               "annotations": {"summary": "replicated"}, "startsAt": starts,
               "endsAt": "0001-01-01T00:00:00Z", "fingerprint": fp} for fp in shuffled]
    return {"version": "4", "status": "firing", "receiver": "tocsin", "groupKey": "{}:{}",
            "alerts": alerts}


def _replica(url: str, fingerprints: list[str], sender: int, barrier: threading.Barrier,
             statuses: Counter[int]) -> None:
    with httpx.Client(timeout=30.0) as client:
        for round_number in range(ROUNDS):
            body = _replica_body(fingerprints, sender * 1000 + round_number)
            barrier.wait(timeout=30)  # every sender posts the round at the same moment
            statuses[client.post(url, json=body).status_code] += 1


def test_replicas_sending_the_same_group_at_once_all_get_200(
    tmp_path: Path, db_url: str, receiver: WebhookReceiver, start_tocsin: StartTocsin,
) -> None:
    # Alertmanager replicas in an HA cluster often post the same group at the
    # same moment, each listing the alerts in its own order.
    config_path = write_config(tmp_path, receiver.base_url, [("primary", 0)])
    server = start_tocsin(config_path, db_url)
    url = server.url(f"/integrations/{AM_KEY}/alertmanager")
    fingerprints = [uuid.uuid4().hex[:16] for _ in range(10)]
    barrier = threading.Barrier(SENDERS)
    statuses: Counter[int] = Counter()
    threads = [threading.Thread(target=_replica, args=(url, fingerprints, n, barrier, statuses))
               for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert statuses == Counter({200: SENDERS * ROUNDS}), statuses
    with TocsinApi(server.base_url) as api:
        for fingerprint in fingerprints:
            [alert] = api.alerts(dedup_key=fingerprint)
            assert alert["event_count"] == SENDERS * ROUNDS
