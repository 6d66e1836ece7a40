"""Grafana and generic JSON alerts through a real `tocsin serve`, paging by webhook.

Grafana's contact point posts its unified-alerting body (firing, then
resolved with PUT, as its HTTP method setting allows); a script posts a
generic alert with its key in a bearer header. Whoever is on call is paged;
the keys never reach the server's log. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alerts.test_grafana_source import grafana_alert, grafana_body
from tests.e2e.conftest import StartTocsin, TocsinApi, config_yaml, pages_for
from tests.support.server import wait_until
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

GRAFANA_KEY = "gf-e2e-key-90ab31"
GENERIC_KEY = "gen-e2e-key-27cd58"


def _write(directory: Path, hooks_url: str) -> Path:
    text = config_yaml(hooks_url, [("primary", 0)]).replace("integrations:\n", f"""integrations:
  - {{name: grafana, type: grafana, key: {GRAFANA_KEY}, service: payment}}
  - {{name: cron, type: generic, key: {GENERIC_KEY}}}
""", 1)
    path = directory / "tocsin.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _status(api: TocsinApi, alert_id: int, status: str) -> dict[str, Any] | None:
    detail = api.alert(alert_id)
    return detail if detail["status"] == status else None


def test_grafana_and_generic_alerts_page_and_resolve_over_the_wire(
    tmp_path: Path, db_url: str, receiver: WebhookReceiver, start_tocsin: StartTocsin,
) -> None:
    server = start_tocsin(_write(tmp_path, receiver.base_url), db_url)
    starts = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    fingerprint = uuid.uuid4().hex[:16]
    firing = grafana_alert(fingerprint=fingerprint, startsAt=starts)
    grafana_url = server.url(f"/integrations/{GRAFANA_KEY}/grafana")

    with TocsinApi(server.base_url) as api:
        response = httpx.post(grafana_url, json=grafana_body(firing), timeout=10)
        assert response.status_code == 200, response.text
        alert_id = response.json()["alerts"][0]["id"]
        [page] = wait_until(lambda: pages_for(receiver, alert_id), timeout=20,
                            message="the Grafana alert's page")
        assert page.signature_valid
        assert page.json["alert"]["title"] == "Checkout p99 above 2s"
        assert page.json["alert"]["service"] == "payment"

        resolved = grafana_alert(fingerprint=fingerprint, startsAt=starts, status="resolved",
                                 endsAt=datetime.now(UTC).isoformat())
        response = httpx.put(grafana_url, json=grafana_body(resolved, status="resolved"),
                             timeout=10)
        assert response.status_code == 200, response.text
        closed = wait_until(lambda: _status(api, alert_id, "resolved"), timeout=10,
                            message="Grafana's resolve to close the alert")
        assert closed["resolved_by"] == "integration:grafana"

        response = httpx.post(server.url("/integrations/generic"), timeout=10,
                              headers={"Authorization": f"Bearer {GENERIC_KEY}"},
                              json={"summary": "Nightly backup failed", "severity": "SEV1",
                                    "source": "db-1", "dedup_key": f"backup-{fingerprint}"})
        assert response.status_code == 202, response.text
        generic_id = response.json()["alerts"][0]["id"]
        wait_until(lambda: pages_for(receiver, generic_id), timeout=20,
                   message="the generic alert's page")
        assert api.alert(generic_id)["urgency"] == "high"

    assert len(pages_for(receiver, alert_id)) == 1, "a resolve must not page anyone"
    log = server.stderr_path.read_text(encoding="utf-8", errors="replace")
    assert "/integrations/***/grafana" in log, "the access log shows the path, masked"
    assert GRAFANA_KEY not in log and GENERIC_KEY not in log
