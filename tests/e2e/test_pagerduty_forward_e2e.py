"""Forward pages from one real Tocsin to another's PagerDuty-compatible /v2/enqueue.

The first server (the sender) pages a "user" that stands for a downstream
service: its contact is a routing key of the second server (the far side).
An alert fired at the sender appears on the far side; acknowledging and
resolving it at the sender does the same there. Both run as `tocsin serve`
processes on 127.0.0.1, each on its own SQLite file.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TocsinApi, sqlite_url
from tests.support.server import TocsinServer, wait_until

pytestmark = pytest.mark.e2e

API_TOKEN = "tok-e2e-write-9c2d"  # the token TocsinApi sends
ROUTING_KEY = "pd0far0side0routing0key00000042"
SOURCE_KEY = "gen-e2e-source-key-77"

FAR_SIDE = f"""
timezone: UTC
users:
  - {{id: carol, name: Carol}}
escalation_policies:
  - name: downstream
    steps:
      - {{targets: [carol], timeout_minutes: 30}}
routes:
  - {{notify: downstream}}
integrations:
  - {{name: from-upstream, type: pagerduty, key: {ROUTING_KEY}}}
api_tokens:
  - {{name: e2e, token: {API_TOKEN}, user: carol, scope: write}}
"""

SENDER = """
timezone: UTC
public_url: http://127.0.0.1:9
users:
  - {{id: downstream, name: Downstream service, contacts: {{pagerduty: {routing_key}}}}}
escalation_policies:
  - name: forward
    steps:
      - {{targets: [downstream], timeout_minutes: 30}}
routes:
  - {{notify: forward}}
services:
  - {{name: checkout, escalation_policy: forward}}
integrations:
  - {{name: scripts, type: generic, key: {source_key}, service: checkout}}
notifications:
  pagerduty: {{url: "{far_side}/v2/enqueue", timeout_seconds: 5}}
api_tokens:
  - {{name: e2e, token: {token}, user: downstream, scope: write}}
"""


def _write(directory: Path, text: str) -> Path:
    directory.mkdir()
    path = directory / "tocsin.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TocsinServer, TocsinServer]]:
    """One sender and one far side for the module: each test forwards its own alert."""
    tmp_path = tmp_path_factory.mktemp("pagerduty-forward")
    far_path = _write(tmp_path / "far", FAR_SIDE)
    far = TocsinServer(far_path, sqlite_url(far_path.parent), far_path.parent / "logs")
    started = [far]
    try:
        far.start()  # first: the sender's config names the port it got
        sender_path = _write(tmp_path / "sender", SENDER.format(
            routing_key=ROUTING_KEY, source_key=SOURCE_KEY, far_side=far.base_url,
            token=API_TOKEN))
        sender = TocsinServer(sender_path, sqlite_url(sender_path.parent),
                              sender_path.parent / "logs")
        started.append(sender)
        sender.start()
        yield sender, far
    finally:
        for server in started:
            server.kill()


@pytest.fixture
def apis(servers: tuple[TocsinServer, TocsinServer]) -> Iterator[tuple[TocsinApi, TocsinApi]]:
    sender, far = servers
    with TocsinApi(sender.base_url) as sender_api, TocsinApi(far.base_url) as far_api:
        yield sender_api, far_api


def _far_alert(far_api: TocsinApi, dedup_key: str, status: str) -> dict[str, Any] | None:
    found = far_api.alerts(dedup_key=dedup_key)
    return found[0] if len(found) == 1 and found[0]["status"] == status else None


def test_a_forwarded_alert_follows_the_sender_through_ack_and_resolve(
    servers: tuple[TocsinServer, TocsinServer], apis: tuple[TocsinApi, TocsinApi],
) -> None:
    sender, _far = servers
    sender_api, far_api = apis
    reply = httpx.post(sender.url(f"/integrations/{SOURCE_KEY}/generic"), timeout=10, json={
        "summary": "Checkout p99 above 2 s", "severity": "SEV2", "dedup_key": "checkout-p99",
        "labels": {"component": "api"}, "runbook_url": "https://wiki.example.com/checkout",
    })
    assert reply.status_code == 202, reply.text
    alert_id = reply.json()["alerts"][0]["id"]
    dedup_key = f"tocsin-{alert_id}"

    arrived = wait_until(lambda: _far_alert(far_api, dedup_key, "triggered"), timeout=30,
                         message="the trigger on the far side")
    assert (arrived["title"], arrived["severity"], arrived["labels"]["component"]) == (
        "Checkout p99 above 2 s", "error", "api")
    assert arrived["integration"] == "from-upstream"

    assert sender_api.client.post(f"/api/v1/alerts/{alert_id}/ack").status_code == 200
    acked = wait_until(lambda: _far_alert(far_api, dedup_key, "acknowledged"), timeout=30,
                       message="the acknowledgement on the far side")
    assert acked["acknowledged_by"] == "integration:from-upstream"

    assert sender_api.client.post(f"/api/v1/alerts/{alert_id}/resolve").status_code == 200
    wait_until(lambda: _far_alert(far_api, dedup_key, "resolved"), timeout=30,
               message="the resolve on the far side")

    detail = sender_api.alert(alert_id)
    forwarded = [e["message"] for e in detail["timeline"] if e["kind"] == "forwarded"]
    assert forwarded == ["forwarded acknowledge for downstream via pagerduty",
                         "forwarded resolve for downstream via pagerduty"]
    # The routing key is a secret: not in the API's answer nor in the sender's log.
    assert ROUTING_KEY not in str(detail)
    assert ROUTING_KEY not in sender.stderr_path.read_text(encoding="utf-8")


def test_a_resolve_from_the_source_reaches_the_far_side(
    servers: tuple[TocsinServer, TocsinServer], apis: tuple[TocsinApi, TocsinApi],
) -> None:
    sender, _far = servers
    _sender_api, far_api = apis
    source = sender.url(f"/integrations/{SOURCE_KEY}/generic")
    reply = httpx.post(source, timeout=10, json={"summary": "Disk full", "dedup_key": "disk"})
    dedup_key = f"tocsin-{reply.json()['alerts'][0]['id']}"
    wait_until(lambda: _far_alert(far_api, dedup_key, "triggered"), timeout=30,
               message="the trigger on the far side")

    resolved = httpx.post(source, timeout=10, json={"action": "resolve", "dedup_key": "disk"})

    assert resolved.status_code == 202, resolved.text
    wait_until(lambda: _far_alert(far_api, dedup_key, "resolved"), timeout=30,
               message="the source's resolve on the far side")
