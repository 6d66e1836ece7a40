"""Alerts for the UI's alert pages: a config with a small routing tree and a way to send any alert.

The tree gives every way an alert can be routed: a route (routes[0]), a
nested route (routes[0].routes[0]), its service's policy when no route
takes it (service payment), and the fallback when nothing does.
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import AM_KEY, USERS, Web

# Alice holds the week of the fake clock (Monday 2026-03-02, 03:00 UTC).
ROUTES = """
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
      - {targets: [bob], timeout_minutes: 10}
routes:
  - match: {severity: critical}
    notify: critical
    routes:
      - {match: {team: db}, notify: primary}
"""
ALERTS_CONFIG = USERS + ROUTES


def send(web: Web, fingerprint: str, *, title: str | None = None, severity: str = "critical",
         run: bool = True, annotations: dict[str, str] | None = None,
         generator_url: str | None = None, **labels: str) -> int:
    """POST one firing alert as Alertmanager would; its id."""
    alert: dict[str, Any] = {
        "status": "firing", "fingerprint": fingerprint, "startsAt": "2026-03-02T02:59:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "labels": {"alertname": "Test", "severity": severity, **labels},
        "annotations": {"summary": title or f"Alert {fingerprint}", **(annotations or {})},
    }
    if generator_url is not None:
        alert["generatorURL"] = generator_url
    body = {"version": "4", "status": "firing", "receiver": "tocsin", "alerts": [alert]}
    response = web.client.post(f"/integrations/{AM_KEY}/alertmanager", json=body)
    assert response.status_code == 200, response.text
    if run:
        web.runtime.engine.run_due()
    alert_id: int = response.json()["alerts"][0]["id"]
    return alert_id


def ids_listed(page: str) -> list[int]:
    """The alert ids of the list's rows, top to bottom."""
    return [int(part.split('"', 1)[0]) for part in page.split('<tr data-alert="')[1:]]
