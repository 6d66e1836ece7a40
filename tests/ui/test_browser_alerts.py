"""The alert pages in a real browser: Debian's chromium, driven by Playwright, on `tocsin serve`.

The list's live update is HTMX polling a fragment; the test proves the new
row arrived without a reload by leaving a mark on the page's window object
first and finding it still there after the row appears.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import TocsinServer
from tests.ui.browsing import (
    PASSWORD,
    expect,
    launch,
    serve_with_alice,
    tocsin,
    wait_for_url_ending,
    watched_page,
)

pytestmark = pytest.mark.e2e

KEY = "generic-key-4b7e19c2"
SCREENSHOTS = Path("/tmp")
CONFIG = f"""
    timezone: UTC
    users:
      - {{id: alice, name: Alice Archer}}
      - {{id: bob, name: Bob Baker}}
    services:
      - {{name: checkout, escalation_policy: web}}
    escalation_policies:
      - name: web
        steps:
          - {{targets: [alice], timeout_minutes: 30}}
          - {{targets: [bob], timeout_minutes: 30}}
    routes:
      - {{match: {{severity: critical}}, notify: web}}
    integrations:
      - {{name: checks, type: generic, key: {KEY}, service: checkout}}
    """


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TocsinServer]:
    folder = tmp_path_factory.mktemp("ui-alerts-browser")
    yield from serve_with_alice(folder, textwrap.dedent(CONFIG))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    yield from watched_page(browser, served)


def _log_in(page, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    page.get_by_label("User id or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _fire(served: TocsinServer, summary: str, dedup_key: str) -> int:
    response = httpx.post(served.url(f"/integrations/{KEY}/generic"), json={
        "summary": summary, "severity": "critical", "dedup_key": dedup_key,
        "labels": {"team": "web"}, "runbook_url": "https://runbooks.example/checkout"})
    assert response.status_code == 202, response.text
    alert_id: int = response.json()["alerts"][0]["id"]
    return alert_id


def test_a_new_alert_appears_live_and_is_acknowledged_with_the_button(
        page, served) -> None:  # type: ignore[no-untyped-def]
    _log_in(page, "/ui/alerts")
    wait_for_url_ending(page, "/ui/alerts")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts")\
        .get_attribute("aria-current") == "page"
    page.evaluate("window.tocsinNoReload = 'still here'")

    alert_id = _fire(served, "Checkout latency above 2 s", "checkout-latency")

    link = page.get_by_role("link", name="Checkout latency above 2 s")
    link.wait_for(state="visible", timeout=20_000)  # the list polls every 5 s
    assert page.evaluate("window.tocsinNoReload") == "still here"
    row = page.locator(f'tr[data-alert="{alert_id}"]')
    assert "triggered" in row.inner_text() and "checkout" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-alerts.png"), full_page=True)

    link.click()
    wait_for_url_ending(page, f"/ui/alerts/{alert_id}")
    expect(page.get_by_role("heading", name="Today's routing")).to_be_visible()
    page.get_by_role("button", name="Acknowledge").click()

    assert page.get_by_role("status").inner_text().startswith("Acknowledged.")
    entry = page.locator('tr[data-kind="acknowledged"]')
    assert "acknowledged by alice via ui" in entry.inner_text()
    assert "Alice Archer" in entry.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-alert.png"), full_page=True)
    told = json.loads(tocsin("alert", "show", str(alert_id), "--db", served.db_url).stdout)
    assert (told["status"], told["acknowledged_by"]) == ("acknowledged", "alice")
    assert [e["surface"] for e in told["timeline"] if e["kind"] == "acknowledged"] == ["ui"]


def test_the_list_filters_without_script(page, served) -> None:  # type: ignore[no-untyped-def]
    quiet = _fire(served, "Payment queue backing up", "payment-queue")
    acked = _fire(served, "Search index stale", "search-index")
    done = tocsin("alert", "ack", str(acked), "--as", "bob", "--config",
                   str(served.config_path), "--db", served.db_url)
    assert done.returncode == 0, done.stderr
    _log_in(page, "/ui/alerts")
    page.get_by_label("Status").select_option("acknowledged")
    page.get_by_role("button", name="Show alerts").click()
    page.wait_for_url(lambda url: "status=acknowledged" in url, timeout=10_000)
    row = page.locator(f'tr[data-alert="{acked}"]')
    assert "Bob Baker" in row.inner_text()  # who acknowledged it
    assert page.locator(f'tr[data-alert="{quiet}"]').count() == 0
