"""Atom and RSS feeds of public incidents follow each update and hold nothing internal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.statuspage.test_status_json import INCIDENTS, STATUS_CONFIG, post
from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock

A = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    text = STATUS_CONFIG.replace("services:\n  - {name: payment, escalation_policy: critical}\n"
                                 "integrations:", "integrations:", 1)
    made = make_web(tmp_path, db_url, clock, text)
    yield made
    close_web(made)


def feed(web: Web, name: str) -> ET.Element:
    response = web.client.get(f"/status/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in (
        "application/atom+xml", "application/rss+xml")
    assert "Billing worker" not in response.text
    return ET.fromstring(response.content)  # noqa: S314 (our own server's answer)


def test_the_atom_feed_follows_an_incident(web: Web):
    empty = feed(web, "history.atom")
    created = post(web, INCIDENTS, {"name": "Checkout <errors>", "impact": "major",
                                    "status": "investigating", "body": "Looking & waiting.",
                                    "components": {"API": "major_outage",
                                                   "Billing worker": "major_outage"}}).json()
    web.clock.advance(minutes=15)
    post(web, f"{INCIDENTS}/{created['id']}/updates", {"status": "resolved", "body": "Fixed."})
    shown = feed(web, "history.atom")

    assert empty.findall(f"{A}entry") == []
    (entry,) = shown.findall(f"{A}entry")
    assert entry.findtext(f"{A}title") == "Checkout <errors>"
    assert entry.findtext(f"{A}id") == f"http://tocsin.test/status/incidents/{created['id']}"
    assert entry.findtext(f"{A}updated") == "2026-03-02T03:15:00Z"
    content = entry.findtext(f"{A}content") or ""
    assert content.index("Resolved") < content.index("Investigating")
    assert "Looking &amp; waiting." in content  # HTML inside the feed, escaped once more


def test_the_rss_feed_lists_the_same_incidents(web: Web):
    post(web, INCIDENTS, {"name": "Slow search", "impact": "minor", "status": "identified",
                          "body": "Index rebuild."})

    channel = feed(web, "history.rss").find("channel")

    assert channel is not None
    assert [item.findtext("title") for item in channel.findall("item")] == ["Slow search"]
    assert channel.findall("item")[0].findtext("pubDate") == "Mon, 02 Mar 2026 03:00:00 GMT"
