"""The signed link page in a real browser: snooze from a page's link, with no login.

`tocsin serve` pages alice by webhook to a receiver on 127.0.0.1; the test
opens the link the page carries in Debian's chromium, picks a snooze length
and presses Snooze. The page has no script and its content security policy
allows forms to post only to itself, so a refused form would show up as a
console error (watched_page fails the test on one).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import TocsinServer, free_port, wait_until
from tests.support.webhook_receiver import WebhookReceiver
from tests.ui.browsing import expect, launch, migrated_sqlite, tocsin, watched_page

pytestmark = pytest.mark.e2e

KEY = "generic-key-5d1a7e3b"
SECRET = "link-page-webhook-secret"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as made:
        yield made


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory,
           receiver: WebhookReceiver) -> Iterator[TocsinServer]:
    folder = tmp_path_factory.mktemp("ui-link-page")
    port = free_port()
    config = folder / "tocsin.yaml"
    config.write_text(textwrap.dedent(f"""
        timezone: UTC
        public_url: http://127.0.0.1:{port}
        users:
          - {{id: alice, name: Alice Archer, contacts: {{webhook: "{receiver.url('/alice')}"}}}}
        escalation_policies:
          - name: web
            steps:
              - {{targets: [alice], timeout_minutes: 30}}
        routes:
          - {{notify: web}}
        integrations:
          - {{name: checks, type: generic, key: {KEY}}}
        notifications:
          webhook: {{secret: {SECRET}}}
        """), encoding="utf-8")
    db = migrated_sqlite(folder)
    with TocsinServer(config, db, folder / "logs", port=port) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    yield from watched_page(browser, served)


def _paged_link(served: TocsinServer, receiver: WebhookReceiver) -> tuple[int, str]:
    response = httpx.post(served.url(f"/integrations/{KEY}/generic"), json={
        "summary": "Checkout latency above 2 s", "severity": "critical",
        "dedup_key": "checkout-latency"})
    assert response.status_code == 202, response.text
    alert_id: int = response.json()["alerts"][0]["id"]

    def paged() -> dict[str, Any] | None:
        for request in receiver.requests:
            if request.path == "/alice" and request.json.get("alert", {}).get("id") == alert_id:
                return dict(request.json)
        return None

    body = wait_until(paged, message="alice's page at the webhook receiver")
    link = str(body["ack_url"])
    assert link.startswith(served.base_url + "/a/")
    return alert_id, link


def test_snooze_from_the_pages_link_in_a_browser(
        page, served, receiver) -> None:  # type: ignore[no-untyped-def]
    alert_id, link = _paged_link(served, receiver)

    page.goto(link)
    expect(page.get_by_role("heading", name="Alert")).to_be_visible()
    assert page.get_by_role("button", name="Unacknowledge").count() == 0
    page.get_by_label("for").select_option(label="1 hour")
    page.get_by_role("button", name="Snooze").click()

    page.get_by_role("heading", name="Done").wait_for()
    assert f"Alert {alert_id} snoozed until" in page.content()
    expect(page.get_by_role("button", name="Unacknowledge")).to_be_visible()
    page.screenshot(path="/tmp/ui-link-snooze.png", full_page=True)
    told = json.loads(tocsin("alert", "show", str(alert_id), "--db", served.db_url).stdout)
    assert (told["status"], told["acknowledged_by"]) == ("acknowledged", "alice")
    snoozed = [e for e in told["timeline"] if e["kind"] == "snoozed"]
    assert [(e["actor"], e["surface"], e["data"]["minutes"]) for e in snoozed] == [
        ("alice", "link", 60)]
