"""A Tocsin web app in a test: real database, fake clock, fake channels.

The engine thread is not started; a test runs the engine with `run_due`
after moving the clock, so nothing waits on real time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from tests.support.harness import FakeChannel
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.engine.runtime import Runtime, build_runtime
from tocsin.notify.base import Page
from tocsin.web.app import create_app

PUBLIC_URL = "http://tocsin.test"
AM_KEY = "am-key-7f3a9c2e51"
READ_TOKEN = "read-token-1a2b3c4d"
WRITE_TOKEN = "write-token-5e6f7a8b"
ADMIN_TOKEN = "admin-token-9c0d1e2f"

USERS = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {webhook: "http://hooks.test/alice"}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/bob"}}
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}
services:
  - {name: payment, escalation_policy: critical}
integrations:
  - {name: prometheus, type: alertmanager, key: am-key-7f3a9c2e51, service: payment}
notifications:
  webhook: {secret: web-test-webhook-secret}
api_tokens:
  - {name: reader, token: read-token-1a2b3c4d, user: carol, scope: read}
  - {name: writer, token: write-token-5e6f7a8b, user: bob, scope: write}
  - {name: admin, token: admin-token-9c0d1e2f, user: alice, scope: admin}
"""

# Alice holds the week of the fake clock (Monday 2026-03-02, 03:00 UTC).
PAGING = """
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 5}
routes:
  - {notify: critical}
"""

CONFIG = USERS + PAGING


def alertmanager_body(fingerprint: str, *, status: str = "firing",
                      starts_at: str = "2026-03-02T02:59:00Z") -> dict[str, Any]:
    alert = {
        "status": status, "fingerprint": fingerprint, "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z",
        "labels": {"alertname": "PaymentErrors", "severity": "critical", "service": "payment"},
        "annotations": {"summary": f"Payment API returning 500 errors ({fingerprint})"},
    }
    return {"version": "4", "status": status, "receiver": "tocsin", "alerts": [alert]}


@dataclass
class Web:
    client: TestClient
    runtime: Runtime
    clock: FakeClock
    channels: dict[str, FakeChannel]
    config_path: Path

    def fire(self, fingerprint: str = "fp-payment", *, run: bool = True) -> int:
        """POST one firing alert as Alertmanager would; run the engine unless told not to."""
        response = self.client.post(f"/integrations/{AM_KEY}/alertmanager",
                                    json=alertmanager_body(fingerprint))
        assert response.status_code == 200, response.text
        if run:
            self.runtime.engine.run_due()
        alert_id: int = response.json()["alerts"][0]["id"]
        return alert_id

    def call(self, method: str, path: str, token: str | None = None,
             **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def alert(self, alert_id: int) -> dict[str, Any]:
        response = self.call("GET", f"/api/v1/alerts/{alert_id}", READ_TOKEN)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def kinds(self, alert_id: int) -> list[str]:
        return [entry["kind"] for entry in self.alert(alert_id)["timeline"]]

    def pages(self, channel: str = "webhook") -> list[Page]:
        return list(self.channels[channel].sent)

    def audit(self) -> list[AuditEntry]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))

    def rewrite_config(self, text: str) -> None:
        self.config_path.write_text(textwrap.dedent(text), encoding="utf-8")

    def metric(self, name: str, **labels: str) -> float:
        """A sample's value as /metrics shows it; 0 when the series is not there yet."""
        response = self.client.get("/metrics")
        assert response.status_code == 200
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == name and all(
                        sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0


def make_web(tmp_path: Path, db_url: str, clock: FakeClock, config: str = CONFIG, *,
             engine_required: bool = False) -> Web:
    config_path = tmp_path / "tocsin.yaml"
    config_path.write_text(textwrap.dedent(config), encoding="utf-8")
    channels = {name: FakeChannel(name, clock) for name in ("console", "webhook")}
    runtime = build_runtime(config_path=config_path, db_url=db_url, clock=clock,
                            notifiers=lambda _config: dict(channels))
    client = TestClient(create_app(runtime, engine_required=engine_required))
    return Web(client, runtime, clock, channels, config_path)


def close_web(web: Web) -> None:
    web.client.close()
    web.runtime.engine.stop()
    web.runtime.db.dispose()


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock)
    yield made
    close_web(made)


def link_path(page: Page) -> str:
    """The path part of a page's signed link, for the test client."""
    assert page.ack_url is not None and page.ack_url.startswith(PUBLIC_URL + "/a/")
    return page.ack_url.removeprefix(PUBLIC_URL)
