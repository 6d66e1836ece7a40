"""A real `tocsin serve` pings its outside monitor while healthy, never logging its URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import StartTocsin, config_yaml, sqlite_url
from tests.support.server import wait_until
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e


def test_serve_pings_the_monitor_and_logs_only_its_host(
    tmp_path: Path, receiver: WebhookReceiver, start_tocsin: StartTocsin,
) -> None:
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_yaml(receiver.base_url, [("primary", 0)]) + f"""
self_monitoring:
  heartbeat_url: "{receiver.url('/ping/e2e-check-secret')}"
  heartbeat_every_minutes: 0.01
""", encoding="utf-8")
    server = start_tocsin(config, sqlite_url(tmp_path))

    def pings() -> int:
        return sum(1 for r in receiver.requests if r.path == "/ping/e2e-check-secret")

    wait_until(lambda: pings() >= 2, timeout=20, message="two heartbeat pings")
    server.stop()
    log = "".join(p.read_text() for p in tmp_path.rglob("serve-*.err"))

    assert "selfwatch.heartbeat_ok" in log
    assert "e2e-check-secret" not in log
