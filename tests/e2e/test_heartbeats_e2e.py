"""Opsgenie's own Python client pings a real `tocsin serve`; a miss pages, a ping resolves.

A team that pings Opsgenie heartbeats with `opsgenie-sdk` changes only the
host. The heartbeat here expects a ping every 3 seconds (0.05 minutes) with
no grace, so the real engine misses it a few seconds after start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import opsgenie_sdk
import pytest

from tests.e2e.conftest import StartTocsin, TocsinApi, config_yaml, pages_for, sqlite_url
from tests.support.server import TocsinServer, wait_until
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

KEY = "hb-e2e-key-51c9"
HEARTBEATS = f"""
heartbeats:
  - {{name: nightly backup, interval_minutes: 0.05, grace_minutes: 0, key: {KEY}}}
"""


def heartbeat_api(server: TocsinServer, key: str) -> Any:
    configuration = opsgenie_sdk.configuration.Configuration()
    configuration.host = server.base_url
    configuration.api_key["Authorization"] = key
    configuration.retry_enabled = False  # a refused ping must fail the test, not retry
    return opsgenie_sdk.HeartbeatApi(opsgenie_sdk.ApiClient(configuration))


@pytest.fixture
def server(tmp_path: Path, receiver: WebhookReceiver, start_tocsin: StartTocsin,
           ) -> Iterator[TocsinServer]:
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_yaml(receiver.base_url, [("primary", 0)]) + HEARTBEATS,
                      encoding="utf-8")
    yield start_tocsin(config, sqlite_url(tmp_path))


def test_opsgenie_client_pings_a_miss_pages_and_the_next_ping_resolves(
    server: TocsinServer, receiver: WebhookReceiver,
) -> None:
    api = heartbeat_api(server, KEY)
    reply = api.ping("nightly backup")
    assert reply.result == "PONG - Heartbeat received"
    assert reply.request_id

    with TocsinApi(server.base_url) as tocsin:
        [alert] = wait_until(lambda: tocsin.alerts(dedup_key="nightly backup"), timeout=30,
                             message="the missed heartbeat's alert")
        assert alert["title"].startswith("Heartbeat nightly backup missed: no ping since ")
        wait_until(lambda: pages_for(receiver, alert["id"]), timeout=30,
                   message="a page for the missed heartbeat")

        api.ping("nightly backup")
        # The ping's reply is sent after its resolve is committed.
        assert tocsin.alert(alert["id"])["status"] == "resolved"


def test_opsgenie_client_gets_401_and_404(server: TocsinServer) -> None:
    with pytest.raises(opsgenie_sdk.exceptions.AuthenticationException) as refused:
        heartbeat_api(server, "not-the-key").ping("nightly backup")
    assert refused.value.status == 401

    with pytest.raises(opsgenie_sdk.ApiException) as unknown:
        heartbeat_api(server, KEY).ping("weekly backup")
    assert unknown.value.status == 404
    assert "weekly backup" in unknown.value.body
