"""A crash (SIGKILL) in the middle of a burst loses nothing and doubles nothing.

An alert Tocsin answered 2xx for is stored; after a restart every
escalation step of every alert runs exactly once; and the webhook receiver
never gets the same page (alert, step, person) under two idempotency keys:
a resend after a crash is allowed, but only as the same delivery.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    AM_KEY,
    StartTocsin,
    TocsinApi,
    alert_pages,
    sqlite_url,
    write_config,
)
from tests.support.server import wait_until
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

# 1.8 s to the second step, 3.6 s more to the third: timers are still pending
# when the server is killed a second or two into the burst, and after the
# restart every alert has run its last step some 5.4 s after its first.
STEPS = [("alice", 0.03), ("bob", 0.06), ("carol", 0)]
REQUESTS = 150
ALERTS_PER_REQUEST = 5
KILL_AFTER_ACCEPTED = 50


def _webhook(batch: int, count: int = ALERTS_PER_REQUEST) -> dict[str, Any]:
    starts = datetime.now(UTC).isoformat()
    alerts = [{
        "status": "firing",
        "labels": {"alertname": "BurstAlert", "batch": str(batch), "n": str(n)},
        "annotations": {"summary": f"burst {batch}.{n}"},
        "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": uuid.uuid4().hex[:16],
    } for n in range(count)]
    return {"version": "4", "status": "firing", "receiver": "tocsin",
            "groupKey": f"{{}}:{{batch=\"{batch}\"}}", "alerts": alerts}


class Burst(threading.Thread):
    """Posts the webhooks one after another and notes what each request got."""

    def __init__(self, url: str, bodies: list[dict[str, Any]]) -> None:
        super().__init__(name="burst", daemon=True)
        self.url = url
        self.bodies = bodies
        self.statuses: list[int | None] = []  # None: no answer (the server died)
        self.enough = threading.Event()

    def run(self) -> None:
        accepted = 0
        with httpx.Client(timeout=10.0) as client:
            for body in self.bodies:
                try:
                    status: int | None = client.post(self.url, json=body).status_code
                except httpx.TransportError:
                    status = None
                self.statuses.append(status)
                accepted += status is not None and 200 <= status < 300
                if accepted >= KILL_AFTER_ACCEPTED:
                    self.enough.set()
        self.enough.set()

    def accepted_keys(self) -> set[str]:
        return {alert["fingerprint"]
                for body, status in zip(self.bodies, self.statuses, strict=False)
                if status is not None and 200 <= status < 300
                for alert in body["alerts"]}


class LastStepPages:
    """The alerts whose last step's page reached the receiver, read as pages arrive.

    Waiting on the receiver costs the server nothing, where polling the alert
    list would take its CPU from the engine that is paging.
    """

    def __init__(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        self.read = 0
        self.alert_ids: set[int] = set()

    def count(self) -> int:
        arrived = self.receiver.requests[self.read:]
        self.read += len(arrived)
        for request in arrived:
            body = request.json
            if "alert" in body and body["step"] == len(STEPS):
                self.alert_ids.add(body["alert"]["id"])
        return len(self.alert_ids)


def _finished(api: TocsinApi, expected: int) -> list[dict[str, Any]] | None:
    alerts = api.alerts(limit=1000)
    done = len(alerts) >= expected and all(a["step"] == len(STEPS) for a in alerts)
    return alerts if done else None


def _escalations(detail: dict[str, Any]) -> Counter[int]:
    return Counter(e["data"]["step"] for e in detail["timeline"] if e["kind"] == "escalated")


def test_sigkill_mid_burst_loses_no_alert_and_runs_each_step_once(
    tmp_path: Path, receiver: WebhookReceiver, start_tocsin: StartTocsin,
) -> None:
    config_path = write_config(tmp_path, receiver.base_url, STEPS)
    with config_path.open("a", encoding="utf-8") as config:
        config.write("storm: off\n")  # follow each page through the crash, not bundles
    server = start_tocsin(config_path, sqlite_url(tmp_path))
    burst = Burst(server.url(f"/integrations/{AM_KEY}/alertmanager"),
                  [_webhook(batch) for batch in range(REQUESTS)])
    burst.start()
    assert burst.enough.wait(60), "the burst never got going"
    server.kill()
    burst.join(60)
    accepted = burst.accepted_keys()
    assert len(accepted) >= KILL_AFTER_ACCEPTED * ALERTS_PER_REQUEST
    assert None in burst.statuses, "the kill should have cut the burst short"

    server.start()
    last_step = LastStepPages(receiver)
    wait_until(lambda: last_step.count() >= len(accepted), timeout=60,
               message="a last-step page for every accepted alert")
    with TocsinApi(server.base_url) as api:
        alerts = wait_until(lambda: _finished(api, len(accepted)), timeout=60,
                            message="every alert to run its last step")
        stored = Counter(a["dedup_key"] for a in alerts)
        assert accepted <= set(stored), f"lost alerts: {sorted(accepted - set(stored))[:5]}"
        assert max(stored.values()) == 1, "an alert was stored twice"
        missing = [key for key in sorted(accepted) if len(api.alerts(dedup_key=key)) != 1]
        assert not missing, f"not found by dedup_key: {missing[:5]}"
        details = [api.alert(a["id"]) for a in alerts]

    wrong = {d["id"]: dict(_escalations(d)) for d in details
             if _escalations(d) != Counter(range(1, len(STEPS) + 1))}
    assert not wrong, f"steps that ran twice or never (alert: step counts): {wrong}"
    _assert_no_duplicate_pages(receiver)
    _assert_sent_pages_arrived(receiver, details)


def _assert_no_duplicate_pages(receiver: WebhookReceiver) -> None:
    keys: defaultdict[tuple[int, int, str], set[str | None]] = defaultdict(set)
    for request in alert_pages(receiver):
        body = request.json
        keys[(body["alert"]["id"], body["step"], body["user"]["id"])].add(
            request.idempotency_key)
    doubled = {page: found for page, found in keys.items() if len(found) > 1}
    assert not doubled, f"pages sent under two idempotency keys: {doubled}"


def _assert_sent_pages_arrived(receiver: WebhookReceiver, details: list[dict[str, Any]]) -> None:
    received = {r.json["delivery_id"] for r in alert_pages(receiver)}
    webhook = [n for d in details for n in d["notifications"] if n["channel"] == "webhook"]
    assert not [n for n in webhook if n["status"] == "failed"]
    missing = [n["id"] for n in webhook if n["status"] == "sent" and n["id"] not in received]
    assert not missing, f"deliveries marked sent that the receiver never got: {missing[:5]}"


def test_sigterm_lets_the_page_in_flight_finish(
    tmp_path: Path, receiver: WebhookReceiver, start_tocsin: StartTocsin,
) -> None:
    config_path = write_config(tmp_path, receiver.base_url, [("alice", 0)])
    server = start_tocsin(config_path, sqlite_url(tmp_path))
    receiver.delay_next(3.0)  # the page is being delivered when SIGTERM arrives
    with TocsinApi(server.base_url) as api:
        [alert] = api.alertmanager(_webhook(0, count=1)).json()["alerts"]
        alert_id = alert["id"]
        wait_until(lambda: alert_pages(receiver), timeout=20, message="the page to be on its way")
        exit_code = server.stop()

    server.start()
    with TocsinApi(server.base_url) as api:
        [page] = [n for n in api.alert(alert_id)["notifications"] if n["channel"] == "webhook"]
    # A graceful stop waits for the send and records it; a crash would leave
    # the page leased ("sending") for two minutes and send it again.
    assert page["status"] == "sent", (page, exit_code, server.log_tail())
