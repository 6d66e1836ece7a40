"""Per-integration body limits, and an Alertmanager storm accepted whole.

A sender that gets a 4xx never retries, so the defaults are generous where
storms happen (Alertmanager and Grafana: 32 MiB) and `max_body_kib` moves
them per integration. A 413 names the limit and the key that raises it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.alerts.test_grafana_source import grafana_alert, grafana_body
from tests.web.conftest import AM_KEY, CONFIG, Web, close_web, make_web
from tocsin.alerts.store import Alert
from tocsin.clock import FakeClock

GRAFANA_KEY = "gf-limit-key-5d1e"
GENERIC_KEY = "gen-limit-key-7a0c"
PD_KEY = "pd-limit-key-3f9b"
LIMITS = CONFIG.replace("integrations:\n", f"""integrations:
  - {{name: grafana, type: grafana, key: {GRAFANA_KEY}}}
  - {{name: scripts, type: generic, key: {GENERIC_KEY}, max_body_kib: 4}}
  - {{name: pd, type: pagerduty, key: {PD_KEY}, max_body_kib: 2}}
  - {{name: pd-default, type: pagerduty, key: {PD_KEY}-2}}
""", 1)
KIB = 1024


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, LIMITS)
    yield made
    close_web(made)


def alert_count(web: Web) -> int:
    with web.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Alert)) or 0)


def padded(body: dict[str, Any], size: int, field: str = "details") -> bytes:
    """`body` as JSON, padded to `size` bytes through a string in `field`."""
    probe = json.dumps({**body, field: {"pad": ""}}).encode()
    filled = json.dumps({**body, field: {"pad": "x" * (size - len(probe))}}).encode()
    assert len(filled) == size
    return filled


def post(web: Web, path: str, raw: bytes, chunked: bool = False) -> Any:
    content: Any = raw
    if chunked:  # a generator makes httpx send Transfer-Encoding: chunked
        content = (raw[i:i + 1000] for i in range(0, len(raw), 1000))
    return web.client.post(path, content=content, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_generic_body_over_its_limit_is_413_naming_limit_and_key(
    web: Web, chunked: bool,
) -> None:
    path = f"/integrations/{GENERIC_KEY}/generic"
    response = post(web, path, padded({"summary": "Disk full"}, 4 * KIB + 1), chunked)

    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "4 KiB" in error["message"] and "integration 'scripts'" in error["message"]
    assert "max_body_kib" in error["message"]
    assert GENERIC_KEY not in response.text
    assert alert_count(web) == 0

    fits = post(web, path, padded({"summary": "Disk full"}, 4 * KIB), chunked)
    assert fits.status_code == 202, fits.text
    assert alert_count(web) == 1


def test_each_pagerduty_integration_has_its_own_limit(web: Web) -> None:
    def event(key: str) -> dict[str, Any]:
        return {"routing_key": key, "event_action": "trigger",
                "payload": {"summary": "Queue deep", "source": "mq-1", "severity": "error"}}

    over_small = post(web, "/v2/enqueue", padded(event(PD_KEY), 3 * KIB, "client"))
    assert over_small.status_code == 413, over_small.text
    body = over_small.json()
    assert body["status"] == "invalid event"
    assert "2 KiB" in body["message"] and "max_body_kib" in body["message"]
    assert PD_KEY not in over_small.text

    same_size_default = post(web, "/v2/enqueue", padded(event(f"{PD_KEY}-2"), 3 * KIB, "client"))
    assert same_size_default.status_code == 202, same_size_default.text

    over_default = post(web, "/v2/enqueue", padded(event(f"{PD_KEY}-2"), 512 * KIB + 1, "client"))
    assert over_default.status_code == 413
    assert "512 KiB" in over_default.json()["message"]
    assert alert_count(web) == 1


def test_grafana_takes_bodies_far_over_the_small_default(web: Web) -> None:
    alerts = [grafana_alert(fingerprint=f"{n:016x}", labels={"alertname": f"Disk{n}"},
                            annotations={"summary": f"Disk {n} full", "detail": "d" * 4000})
              for n in range(300)]
    raw = json.dumps(grafana_body(*alerts)).encode()
    assert len(raw) > 1024 * KIB

    response = post(web, f"/integrations/{GRAFANA_KEY}/grafana", raw)

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 300
    assert alert_count(web) == 300


# One request stores 5,000 alerts: tens of seconds on a busy two-core machine.
@pytest.mark.timeout(400)
def test_an_alertmanager_storm_of_5000_alerts_is_accepted_whole(web: Web) -> None:
    alerts = [{
        "status": "firing", "fingerprint": f"{n:016x}",
        "labels": {"alertname": "NodeDown", "instance": f"node-{n}:9100", "severity": "critical",
                   "service": "payment", "rack": f"r{n % 40}"},
        "annotations": {"summary": f"node-{n} is down",
                        "description": f"node-{n} has not answered scrapes for 5 minutes. " * 12},
        "startsAt": "2026-03-02T02:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.invalid/graph?g0.expr=up%7Binstance%3D%22node-{n}%22",
    } for n in range(5000)]
    body = {"version": "4", "status": "firing", "receiver": "tocsin", "groupKey": "{}:{}",
            "truncatedAlerts": 0, "groupLabels": {"alertname": "NodeDown"},
            "commonLabels": {"alertname": "NodeDown"}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.invalid", "alerts": alerts}
    raw = json.dumps(body).encode()
    assert len(raw) > 4 * 1024 * KIB, "a storm body is several MiB"

    response = post(web, f"/integrations/{AM_KEY}/alertmanager", raw)

    assert response.status_code == 200, response.text
    reply = response.json()
    assert (reply["accepted"], reply["rejected"]) == (5000, [])
    assert len({a["id"] for a in reply["alerts"]}) == 5000
    assert alert_count(web) == 5000
