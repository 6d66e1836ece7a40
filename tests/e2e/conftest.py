"""End-to-end fixtures: real `tocsin serve` processes, a real Alertmanager.

Every process a test starts is killed in the fixture's teardown, and its
stderr tail is printed when the test failed. Everything listens on
127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import TocsinServer, free_port, wait_until
from tests.support.webhook_receiver import ReceivedRequest, WebhookReceiver

WEBHOOK_SECRET = "whsec-e2e-7f3a91"
AM_KEY = "am-e2e-key-4b1c"
PD_KEY = "pd0e2e0routing0key0000000000000a"
API_TOKEN = "tok-e2e-write-9c2d"
ALERTMANAGER_BINARY = "/usr/bin/prometheus-alertmanager"

# Three people rotate daily at midnight UTC, so "who is on call now" has one
# answer except across that handoff, which the tests allow for.
_CONFIG = """
timezone: UTC
public_url: http://127.0.0.1:9
users:
  - {{id: alice, name: Alice, contacts: {{webhook: "{hooks}/pages/alice"}}}}
  - {{id: bob, name: Bob, contacts: {{webhook: "{hooks}/pages/bob"}}}}
  - {{id: carol, name: Carol, contacts: {{webhook: "{hooks}/pages/carol"}}}}
  - {{id: dave, name: Dave, contacts: {{webhook: "{hooks}/pages/dave"}}}}
schedules:
  - name: primary
    rotation: daily
    start_time: "00:00"
    start_date: 2026-01-01
    participants: [alice, bob, carol]
escalation_policies:
  - name: critical
    steps:
{steps}
routes:
  - {{notify: critical}}
services:
  - {{name: payment, escalation_policy: critical}}
integrations:
  - {{name: prom, type: alertmanager, key: {am_key}, service: payment}}
  - {{name: pd, type: pagerduty, key: {pd_key}}}
notifications:
  webhook: {{secret: {secret}, timeout_seconds: 5}}
  fallback: [dave]
api_tokens:
  - {{name: e2e, token: {token}, user: alice, scope: write}}
"""


def config_yaml(hooks_url: str, steps: list[tuple[str, float]]) -> str:
    """A config whose people are paged by webhook at `hooks_url`/pages/<user>.

    `steps` are (target, timeout minutes) pairs of the one policy, `critical`.
    """
    lines = "\n".join(f"      - {{targets: [{target}], timeout_minutes: {minutes}}}"
                      for target, minutes in steps)
    return _CONFIG.format(hooks=hooks_url, steps=lines, am_key=AM_KEY, pd_key=PD_KEY,
                          secret=WEBHOOK_SECRET, token=API_TOKEN)


def write_config(directory: Path, hooks_url: str, steps: list[tuple[str, float]]) -> Path:
    path = directory / "tocsin.yaml"
    path.write_text(textwrap.dedent(config_yaml(hooks_url, steps)), encoding="utf-8")
    return path


class TocsinApi:
    """The REST API and the ingest endpoints of one server, with the e2e token."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10.0,
                                   headers={"Authorization": f"Bearer {API_TOKEN}"})

    def alerts(self, **filters: Any) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/alerts", params=filters)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["alerts"]
        return found

    def alert(self, alert_id: int) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/alerts/{alert_id}")
        response.raise_for_status()
        detail: dict[str, Any] = response.json()
        return detail

    def alertmanager(self, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"/integrations/{AM_KEY}/alertmanager", json=body)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> TocsinApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def alert_pages(receiver: WebhookReceiver) -> list[ReceivedRequest]:
    """The alert pages the receiver got, without handoff notices.

    The server runs on the real clock, so a run near a shift's handoff also
    sends its participants a notice through the same webhook.
    """
    return [r for r in list(receiver.requests) if "alert" in r.json]


def pages_for(receiver: WebhookReceiver, alert_id: int) -> list[ReceivedRequest]:
    """The pages the receiver got for one alert, in arrival order."""
    return [r for r in list(receiver.requests) if r.json.get("alert", {}).get("id") == alert_id]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as hooks:
        yield hooks


_FAILED = pytest.StashKey[bool]()

StartTocsin = Callable[[Path, str], TocsinServer]
StartAlertmanager = Callable[[str], "Alertmanager"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Remember whether the test body failed, so teardown can show server logs.
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def start_tocsin(
    request: pytest.FixtureRequest, tmp_path: Path,
) -> Iterator[StartTocsin]:
    """Start `tocsin serve` with a config file and a database URL."""
    servers: list[TocsinServer] = []

    def start(config_path: Path, db_url: str) -> TocsinServer:
        log_dir = tmp_path / f"server-{len(servers)}"
        server = TocsinServer(config_path, db_url, log_dir)
        servers.append(server)
        return server.start()

    yield start
    failed = request.node.stash.get(_FAILED, False)
    for server in servers:
        server.kill()
        if failed:
            print(f"--- tocsin serve stderr (last start, {server.stderr_path}) ---")
            print(server.log_tail(60))


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'tocsin.db'}"


class Alertmanager:
    """One Prometheus Alertmanager, clustering off, sending to one webhook URL."""

    def __init__(self, workdir: Path, webhook_url: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.webhook_url = webhook_url
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        # group_wait 0s sends a new alert at once; group_interval 1s sends
        # changes (a resolve) a second later; repeat_interval 1h keeps
        # Alertmanager from re-sending while a test runs.
        path = self.workdir / "alertmanager.yml"
        path.write_text(textwrap.dedent(f"""
            route:
              receiver: tocsin
              group_by: [alertname]
              group_wait: 0s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: tocsin
                webhook_configs:
                  - url: {self.webhook_url}
                    send_resolved: true
        """), encoding="utf-8")
        return path

    def start(self) -> Alertmanager:
        config = self._write_config()
        storage = self.workdir / "data"
        storage.mkdir(exist_ok=True)
        command = [ALERTMANAGER_BINARY, f"--config.file={config}",
                   f"--storage.path={storage}",
                   f"--web.listen-address=127.0.0.1:{self.port}",
                   "--cluster.listen-address="]
        with open(self.workdir / "alertmanager.err", "wb") as err:
            self.process = subprocess.Popen(command, stdout=err, stderr=err,
                                            stdin=subprocess.DEVNULL)
        wait_until(self._ready, timeout=20, message=lambda: "Alertmanager /-/ready\n"
                   + self.log_tail())
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError("alertmanager exited:\n" + self.log_tail())
        try:
            return httpx.get(f"{self.base_url}/-/ready", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "alertmanager.err"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        response = httpx.post(f"{self.base_url}/api/v2/alerts", json=alerts, timeout=10.0)
        assert response.status_code == 200, response.text

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _require_alertmanager() -> None:
    found = os.path.exists(ALERTMANAGER_BINARY) or shutil.which("prometheus-alertmanager")
    if not found:
        # A skip would prove nothing (and fails the run under CI=true anyway).
        pytest.fail(f"{ALERTMANAGER_BINARY} is missing: .ci/run installs the Debian package "
                    "prometheus-alertmanager (apt-get install prometheus-alertmanager)")


@pytest.fixture
def start_alertmanager(tmp_path: Path) -> Iterator[StartAlertmanager]:
    """Start an Alertmanager whose one receiver posts to `webhook_url`."""
    _require_alertmanager()
    started: list[Alertmanager] = []

    def start(webhook_url: str) -> Alertmanager:
        workdir = tmp_path / f"alertmanager-{len(started)}"
        workdir.mkdir()
        manager = Alertmanager(workdir, webhook_url)
        started.append(manager)
        return manager.start()

    yield start
    for manager in started:
        manager.stop()
