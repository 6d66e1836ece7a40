"""`status_page.public_port`: a real `tocsin serve` also listens there, page only."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx

from tests.support.server import TocsinServer, free_port, tocsin_command

CONFIG = """\
timezone: UTC
status_page: {{title: Example Status, public_port: {port}}}
components:
  - {{name: API}}
api_tokens:
  - {{name: reader, token: status-reader-token, scope: read}}
"""


def test_the_public_port_serves_the_page_at_its_root_and_nothing_else(tmp_path: Path) -> None:
    # One backend: this is about the listener; the page's storage is tested on both.
    db_url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    public = free_port()
    config = tmp_path / "tocsin.yaml"
    config.write_text(CONFIG.format(port=public), encoding="utf-8")
    reader = {"Authorization": "Bearer status-reader-token"}
    with TocsinServer(config, db_url, tmp_path) as server:
        base = f"http://127.0.0.1:{public}"
        summary = httpx.get(f"{base}/api/v2/summary.json", timeout=10)
        page = httpx.get(f"{base}/", timeout=10)
        api = httpx.get(f"{base}/api/v1/status/components", headers=reader, timeout=10)
        ui = httpx.get(f"{base}/ui/", timeout=10)
        # The main port still serves everything, the page under /status/.
        main_api = httpx.get(server.url("/api/v1/status/components"), headers=reader,
                             timeout=10)
        main_page = httpx.get(server.url("/status/api/v2/summary.json"), timeout=10)

    assert summary.status_code == 200
    assert summary.json()["page"]["name"] == "Example Status"
    assert [c["name"] for c in summary.json()["components"]] == ["API"]
    assert page.status_code == 200 and "All Systems Operational" in page.text
    assert (api.status_code, ui.status_code) == (404, 404)
    assert main_api.status_code == 200
    assert main_page.json()["page"]["id"] == summary.json()["page"]["id"]


def test_a_public_port_in_use_stops_the_start_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "tocsin.yaml"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config.write_text(CONFIG.format(port=taken.getsockname()[1]), encoding="utf-8")
        done = subprocess.run(
            [*tocsin_command(), "serve", "--host", "127.0.0.1", "--port", str(free_port()),
             "--config", str(config), "--db", f"sqlite:///{tmp_path / 'tocsin.db'}"],
            capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode != 0
    assert "cannot listen on status_page.public_port" in done.stderr
    assert "free the port or choose another" in done.stderr
