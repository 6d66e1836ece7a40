"""The status page on its own host name: its paths at /, and nothing else of Tocsin there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.statuspage.test_status_json import INCIDENTS, STATUS_CONFIG, post
from tests.web.conftest import ADMIN_TOKEN, AM_KEY, Web, close_web, make_web
from tocsin.clock import FakeClock
from tocsin.web.statuspage_host import normal_host

STATUS_HOST = {"Host": "status.example.com"}


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    text = STATUS_CONFIG.replace("services:\n  - {name: payment, escalation_policy: critical}\n"
                                 "integrations:", "integrations:", 1)
    text = text.replace("status_page: {title: Example Status, time_zone: Europe/Berlin}",
                        "status_page: {title: Example Status, time_zone: Europe/Berlin,\n"
                        "              public_host: status.example.com}")
    made = make_web(tmp_path, db_url, clock, text)
    yield made
    close_web(made)


def test_the_status_paths_answer_at_the_root_of_the_public_host(web: Web):
    created = post(web, INCIDENTS, {"name": "Checkout errors", "impact": "minor",
                                    "status": "investigating", "body": "Looking."}).json()

    summary = web.client.get("/api/v2/summary.json", headers=STATUS_HOST)
    home = web.client.get("/", headers={"Host": "STATUS.example.com:443"})
    linked = web.client.get(f"/status/incidents/{created['id']}", headers=STATUS_HOST)
    feed = web.client.get("/history.atom", headers=STATUS_HOST)
    style = web.client.get("/static/status.css", headers=STATUS_HOST)

    assert summary.status_code == 200
    assert summary.json()["status"]["indicator"] == "minor"
    assert (home.status_code, home.headers["content-type"].split(";")[0]) == (200, "text/html")
    assert "Checkout errors" in home.text
    assert (linked.status_code, feed.status_code, style.status_code) == (200, 200, 200)


@pytest.mark.parametrize("path", ["/api/v1/status/components", "/ui/", "/ui/status",
                                  "/healthz", "/metrics", "/openapi.json",
                                  f"/integrations/{AM_KEY}/alertmanager"])
def test_nothing_else_of_tocsin_is_reachable_by_the_public_name(web: Web, path: str):
    response = web.client.get(path, headers={**STATUS_HOST,
                                             "Authorization": f"Bearer {ADMIN_TOKEN}"})
    elsewhere = web.client.get(path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                               follow_redirects=False)

    assert response.status_code == 404
    assert elsewhere.status_code != 404


@pytest.mark.parametrize("host", ["status.example.com.", "Status.Example.COM.:8443"])
def test_the_fully_qualified_name_with_its_final_dot_is_the_public_name_too(
    web: Web, host: str
):
    admin = {"Host": host, "Authorization": f"Bearer {ADMIN_TOKEN}"}

    api = web.client.get("/api/v1/status/components", headers=admin)
    ui = web.client.get("/ui/", headers=admin, follow_redirects=False)
    summary = web.client.get("/api/v2/summary.json", headers={"Host": host})

    assert (api.status_code, ui.status_code) == (404, 404)
    assert summary.status_code == 200
    assert summary.json()["page"]["name"] == "Example Status"


def test_host_names_compare_without_case_port_or_final_dot():
    assert normal_host("Status.Example.com.:443") == "status.example.com"
    assert normal_host(" status.example.com ") == "status.example.com"
    assert normal_host("[::1]:8080") == "[::1]"
    assert normal_host("status.example.com..") == "status.example.com."  # one dot only
