"""Maintenance and heartbeats in a real browser: Debian's chromium, driven by Playwright,
on `tocsin serve` with its real clock and engine.

A person makes a window from the form, sees it listed, sees a matching
alert held on its page, ends the window through the confirm page and sees
the alert released; a wrong form names the field; a heartbeat that never
pings shows as missed, with its alert.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import TocsinServer, wait_until
from tests.ui.browsing import (
    PASSWORD,
    expect,
    launch,
    serve_with_alice,
    wait_for_url_ending,
    watched_page,
)

pytestmark = pytest.mark.e2e

KEY = "generic-key-mw-51d0"
READER = "read-token-mw-0c4e"
SCREENSHOTS = Path("/tmp")
# The heartbeat expects a ping every 1.2 s with no grace and never gets one, so
# the engine misses it a moment after the server starts.
CONFIG = f"""
    timezone: Europe/Berlin
    users:
      - {{id: alice, name: Alice Archer}}
    services:
      - {{name: checkout, escalation_policy: web}}
    escalation_policies:
      - name: web
        steps:
          - {{targets: [alice], timeout_minutes: 30}}
    routes:
      - {{match: {{severity: critical}}, notify: web}}
    integrations:
      - {{name: checks, type: generic, key: {KEY}, service: checkout}}
    api_tokens:
      - {{name: reader, token: {READER}, user: alice, scope: read}}
    heartbeats:
      - {{name: nightly backup, interval_minutes: 0.02, grace_minutes: 0}}
    """


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TocsinServer]:
    folder = tmp_path_factory.mktemp("ui-maintenance-browser")
    yield from serve_with_alice(folder, textwrap.dedent(CONFIG))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    # The form's own 400 (a page that explains the problem) is the one error expected.
    yield from watched_page(browser, served, expected_errors=("status of 400 (Bad Request)",))


def _log_in(page, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    page.get_by_label("User id or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _api(served: TocsinServer, path: str) -> Any:
    response = httpx.get(served.url(path), headers={"Authorization": f"Bearer {READER}"})
    assert response.status_code == 200, response.text
    return response.json()


def _fire(served: TocsinServer, summary: str, dedup_key: str) -> int:
    response = httpx.post(served.url(f"/integrations/{KEY}/generic"), json={
        "summary": summary, "severity": "critical", "dedup_key": dedup_key})
    assert response.status_code == 202, response.text
    alert_id: int = response.json()["alerts"][0]["id"]
    return alert_id


def _kinds(served: TocsinServer, alert_id: int) -> list[str]:
    return [entry["kind"] for entry in _api(served, f"/api/v1/alerts/{alert_id}")["timeline"]]


def test_a_window_made_in_the_form_holds_an_alert_until_it_is_ended(
        page, served) -> None:  # type: ignore[no-untyped-def]
    _log_in(page, "/ui/maintenance")
    wait_for_url_ending(page, "/ui/maintenance")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Maintenance")\
        .get_attribute("aria-current") == "page"
    page.get_by_label("Services").fill("checkout")
    page.get_by_label("Duration").fill("2h")
    page.get_by_label("Reason").fill("checkout database upgrade")
    page.get_by_role("button", name="Make window").click()

    assert page.get_by_role("status").inner_text() == "Maintenance window #1 made."
    row = page.locator('section[aria-labelledby="in-force-heading"] tr[data-window="1"]')
    assert "checkout database upgrade" in row.inner_text()
    assert "Alice Archer (ui)" in row.inner_text()
    expect(page.get_by_role("columnheader", name="Start (Europe/Berlin)").first).to_be_visible()

    alert_id = _fire(served, "Checkout returns 502", "checkout-502")
    wait_until(lambda: "silenced" in _kinds(served, alert_id), message="the alert held")
    page.goto(f"/ui/alerts/{alert_id}")
    held = page.locator("p.held").inner_text()
    assert held.startswith("Held by maintenance window #1 (checkout database upgrade) until ")
    assert "(Europe/Berlin): nobody is paged until then." in held

    page.get_by_role("link", name="See maintenance").click()
    assert page.locator('tr[data-window="1"] td').nth(6).inner_text() == "1"
    page.get_by_role("button", name="End maintenance window #1 now").click()
    expect(page.get_by_role("heading", name="End maintenance window #1?")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "ui-maintenance-end.png"), full_page=True)
    page.get_by_role("button", name="End maintenance window #1 now").click()

    assert page.get_by_role("status").inner_text() == "Maintenance window #1 ended."
    assert page.locator('section[aria-labelledby="ended-heading"] tr[data-window="1"]').count() \
        == 1
    wait_until(lambda: "released" in _kinds(served, alert_id), message="the alert released")
    page.goto(f"/ui/alerts/{alert_id}")
    assert page.locator("p.held").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "ui-maintenance-released.png"), full_page=True)


def test_a_wrong_form_says_which_field_and_makes_nothing(
        page, served) -> None:  # type: ignore[no-untyped-def]
    _log_in(page, "/ui/maintenance")
    page.get_by_label("Labels matching").fill("host=db-(")
    page.get_by_label("Start (Europe/Berlin)").fill("2030-01-01T10:00")
    page.get_by_label("End (Europe/Berlin)").fill("2030-01-01T09:00")
    page.get_by_label("Reason").fill("never made")
    page.get_by_role("button", name="Make window").click()

    told = page.get_by_role("alert").inner_text()
    assert "End: must be after start" in told
    assert page.get_by_label("End (Europe/Berlin)").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Reason").input_value() == "never made"  # what was typed stays
    page.screenshot(path=str(SCREENSHOTS / "ui-maintenance-error.png"), full_page=True)
    listed = _api(served, "/api/v1/maintenance?all=true")["maintenance"]
    assert [w for w in listed if w["reason"] == "never made"] == []


def test_the_heartbeats_page_shows_a_missed_heartbeat_and_its_alert(
        page, served) -> None:  # type: ignore[no-untyped-def]
    def missed() -> dict[str, Any] | None:
        [item] = _api(served, "/api/v1/heartbeats")["heartbeats"]
        return item if item["state"] == "missed" else None

    found = wait_until(missed, timeout=30, message="the heartbeat missed")
    _log_in(page, "/ui/heartbeats")

    row = page.locator('tr[data-heartbeat="nightly backup"]')
    assert "missed" in row.inner_text() and "never" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-heartbeats.png"), full_page=True)
    row.get_by_role("link", name=f"#{found['alert_id']}").click()
    expect(page.get_by_role("heading", name="Heartbeat nightly backup missed")).to_be_visible()
