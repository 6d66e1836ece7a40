"""The public HTML page: banner, components with uptime bars, incidents by local day.

Rendered through the web app on both backends and checked with `html_problems`.
The fake clock starts Monday 2026-03-02 03:00 UTC (04:00 in Berlin).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.statuspage.html_check import html_problems
from tests.statuspage.test_status_json import INCIDENTS, STATUS_CONFIG, post
from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    text = STATUS_CONFIG.replace("services:\n  - {name: payment, escalation_policy: critical}\n"
                                 "integrations:", "integrations:", 1)
    made = make_web(tmp_path, db_url, clock, text)
    yield made
    close_web(made)


def page(web: Web, path: str = "/status/") -> str:
    response = web.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]
    problems = html_problems(response.text)
    assert problems == [], problems
    return response.text


def banner(html: str) -> str:
    found = re.search(r'class="banner indicator-(\w+)"[^>]*>\s*<p>([^<]+)</p>', html)
    assert found is not None
    return f"{found.group(1)}: {found.group(2)}"


def declare(web: Web, **body: object) -> str:
    response = post(web, INCIDENTS, {"name": "Checkout errors", "impact": "major",
                                     "status": "investigating",
                                     "body": "We are investigating <failed> payments.",
                                     **body})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_the_page_follows_an_incident_and_maintenance(web: Web):
    during_maintenance = page(web)
    web.clock.advance(minutes=120)
    quiet = page(web)
    key = declare(web, components={"API": "major_outage"})
    open_page = page(web)
    web.clock.advance(minutes=30)
    post(web, f"{INCIDENTS}/{key}/updates", {"status": "resolved", "body": "Fixed.",
                                            "components": {"API": "operational"}})
    after = page(web)

    assert banner(during_maintenance) == "maintenance: Service Under Maintenance"
    assert "Scheduled maintenance: API" in during_maintenance
    assert "Database upgrade" not in during_maintenance  # the window's reason is internal
    assert "Internal billing host move" not in during_maintenance
    assert banner(quiet) == "none: All Systems Operational"
    assert banner(open_page) == "critical: Major System Outage"
    assert "We are investigating &lt;failed&gt; payments." in open_page  # escaped, never markup
    assert '<h2 id="incident-' in open_page
    assert banner(after) == "none: All Systems Operational"
    assert '<h2 id="incident-' not in after  # no longer active, listed under its day


def test_components_show_status_uptime_bars_and_never_internal_ones(web: Web):
    web.clock.advance(minutes=120)  # 05:00 UTC
    key = declare(web, components={"API": "major_outage", "Billing worker": "major_outage"})
    web.clock.advance(minutes=60)
    post(web, f"{INCIDENTS}/{key}/updates", {"status": "resolved", "body": "Fixed."})

    html = page(web)

    assert "Billing worker" not in html
    bars = re.findall(r'role="img" aria-label="([^"]+)"', html)
    # One hour down today out of 30 and 90 days.
    assert bars == ["API: 99.95 % uptime over 90 days, 99.86 % over 30 days",
                    "Web: 100.00 % uptime over 90 days, 100.00 % over 30 days"]
    assert html.count('class="bar status-major_outage"') == 1  # today, for API only
    # Today in Berlin began at 23:00 UTC: 1 h down of the 7 h so far.
    assert 'title="2026-03-02: 85.71 %"' in html


def test_past_incidents_are_grouped_by_day_in_the_pages_zone(web: Web):
    # 23:30 UTC on Monday is 00:30 on Tuesday in Berlin.
    web.clock.advance(minutes=20 * 60 + 30)
    declare(web, name="Late night blip", impact="minor")
    web.clock.advance(minutes=5)

    html = page(web)

    tuesday = html.index('<time datetime="2026-03-03">')
    monday = html.index('<time datetime="2026-03-02">')
    blip = html.rindex("Late night blip")
    assert tuesday < blip < monday
    assert "Times are in Europe/Berlin (CET)" in html


def test_an_incident_has_its_own_page_and_an_unknown_one_is_404(web: Web):
    key = declare(web)

    html = page(web, f"/status/incidents/{key}")

    assert "<h1>Checkout errors</h1>" in html
    assert web.client.get("/status/incidents/999").status_code == 404
    assert json.loads(web.client.get("/status/incidents/999").text)["error"]["code"]
