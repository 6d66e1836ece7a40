"""The public status page in Debian's chromium with JavaScript off, against `tocsin serve`.

The server runs on the system clock; the test posts a public incident through
the API and reads the page as a customer would, then follows the incident link.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import TocsinServer
from tests.ui.browsing import expect, launch, serve_with_alice, wait_for_url_ending

pytestmark = pytest.mark.e2e

TOKEN = "status-browser-write-token"
CONFIG = textwrap.dedent(f"""
    timezone: UTC
    users:
      - {{id: alice, name: Alice Archer}}
    services:
      - {{name: payment, escalation_policy: critical}}
    escalation_policies:
      - name: critical
        steps: [{{targets: [alice], timeout_minutes: 5}}]
    routes:
      - notify: critical
    api_tokens:
      - {{name: writer, token: {TOKEN}, user: alice, scope: write}}
    status_page: {{title: Example Status, time_zone: Europe/Berlin}}
    components:
      - {{name: API, group: Core, service: payment}}
      - {{name: Web, group: Core}}
      - {{name: Billing worker, public: false}}
    """)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TocsinServer]:
    yield from serve_with_alice(tmp_path_factory.mktemp("status-browser"), CONFIG)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture
def page(browser: Any, served: TocsinServer) -> Iterator[Any]:
    context = browser.new_context(base_url=served.base_url, java_script_enabled=False)
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(served.base_url) else route.abort())
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text)
              if message.type == "error" else None)
    yield opened
    context.close()
    assert errors == []  # a style the security policy blocked would show here


def test_a_customer_reads_the_incident_and_follows_it(page: Any, served: TocsinServer):
    answer = httpx.post(served.url("/api/v1/status/incidents"),
                        headers={"Authorization": f"Bearer {TOKEN}"},
                        json={"name": "Checkout errors", "impact": "major",
                              "status": "identified", "body": "A bad deploy; rolling back.",
                              "components": {"API": "major_outage",
                                             "Billing worker": "major_outage"}})
    assert answer.status_code == 201, answer.text

    page.goto("/status/")

    assert page.locator(".banner").inner_text().strip() == "Major System Outage"
    banner_colour = page.locator(".banner").evaluate(
        "element => getComputedStyle(element).backgroundColor")
    assert banner_colour == "rgb(179, 0, 27)"  # the stylesheet loaded under the policy
    expect(page.get_by_role("heading", name="Checkout errors", level=2)).to_be_visible()
    expect(page.get_by_text("A bad deploy; rolling back.").first).to_be_visible()
    assert page.get_by_text("Billing worker").count() == 0
    bars = page.get_by_role("img")
    assert bars.count() == 2
    assert bars.first.get_attribute("aria-label").startswith("API: ")
    assert page.locator(".bars").first.locator(".bar").count() == 90
    assert "Times are in Europe/Berlin" in page.locator("footer").inner_text()

    page.get_by_role("link", name="Checkout errors").first.click()

    wait_for_url_ending(page, f"/status/incidents/{answer.json()['id']}")
    assert page.get_by_role("heading", level=1).inner_text() == "Checkout errors"
