"""The internal status page at /ui/status: behind login, with internal components marked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.statuspage.html_check import html_problems
from tests.statuspage.test_status_json import INCIDENTS, STATUS_CONFIG, post
from tests.ui.conftest import log_in, set_password
from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    text = STATUS_CONFIG.replace("services:\n  - {name: payment, escalation_policy: critical}\n"
                                 "integrations:", "integrations:", 1)
    made = make_web(tmp_path, db_url, clock, text)
    set_password(made, "alice")
    yield made
    close_web(made)


def test_a_visitor_is_sent_to_log_in(web: Web):
    response = web.client.get("/ui/status", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/status"


def test_a_signed_in_reader_sees_internal_components_marked(web: Web):
    post(web, INCIDENTS, {"name": "Billing delays", "impact": "minor", "status": "identified",
                          "body": "Invoices are late.",
                          "components": {"Billing worker": "partial_outage"}})
    log_in(web.client)

    response = web.client.get("/ui/status")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert html_problems(response.text) == []
    assert 'Billing worker <span class="internal">internal</span>' in response.text
    assert "Partial outage" in response.text
    # No subscribe form here: its checkboxes would offer internal components.
    assert 'action="/status/subscribe"' not in response.text
    assert "Billing worker" not in web.client.get("/status/").text
