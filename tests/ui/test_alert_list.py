"""The alert list at /ui/alerts: filters, order, count, paging, live rows, on both backends."""

from __future__ import annotations

import html
import re

import pytest

from tests.ui.alerting import ids_listed, send
from tests.ui.conftest import UI_CONFIG, log_in
from tests.web.conftest import WRITE_TOKEN, Web, close_web, make_web
from tocsin.web.ui_session import TRUSTED_HEADER_ENV


def older_link(page: str) -> str:
    found = re.search(r'<a href="([^"]+)">Older →</a>', page)
    assert found, "no link to older alerts"
    return html.unescape(found.group(1))


def resolve_by_api(web: Web, alert_id: int) -> None:
    response = web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)
    assert response.status_code == 200, response.text


def test_the_list_needs_a_login_and_the_rows_send_the_tab_to_log_in(alerts_ui: Web):
    response = alerts_ui.client.get("/ui/alerts?status=all", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/alerts%3Fstatus%3Dall"
    rows = alerts_ui.client.get("/ui/alerts/rows?status=resolved", follow_redirects=False)
    assert rows.status_code == 401
    assert rows.headers["HX-Redirect"] == "/ui/login?next=/ui/alerts%3Fstatus%3Dresolved"
    assert "<table" not in rows.text


def test_open_alerts_newest_first_by_default_with_their_count(alerts_ui: Web):
    first, second, third = (send(alerts_ui, f"fp-{n}") for n in range(3))
    resolve_by_api(alerts_ui, second)
    log_in(alerts_ui.client)

    page = alerts_ui.client.get("/ui/alerts").text

    assert ids_listed(page) == [third, first]
    assert "<strong>2</strong> alerts match; showing 1 to 2." in page
    every = alerts_ui.client.get("/ui/alerts?status=all").text
    assert ids_listed(every) == [third, second, first]
    assert ids_listed(alerts_ui.client.get("/ui/alerts?status=resolved").text) == [second]


def test_a_row_shows_status_severity_urgency_service_age_and_who_acknowledged(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-row", title="Disk full on db-1")
    response = alerts_ui.call("POST", f"/api/v1/alerts/{alert_id}/ack", WRITE_TOKEN)
    assert response.status_code == 200
    alerts_ui.clock.advance(minutes=75)
    log_in(alerts_ui.client)

    page = alerts_ui.client.get("/ui/alerts").text

    row = page.split(f'<tr data-alert="{alert_id}">')[1].split("</tr>")[0]
    assert f'href="/ui/alerts/{alert_id}">Disk full on db-1</a>' in row
    cells = [re.sub(r"<[^>]+>", "", cell.split(">", 1)[1]).strip()
             for cell in row.split("<td")[1:]]
    # The write token's user acknowledged: shown by name.
    assert cells == [f"#{alert_id}", "Disk full on db-1", "acknowledged", "critical", "high",
                     "payment", "1 h 15 min", "Bob"]
    assert 'title="triggered Mon 02 Mar 2026 03:00:00"' in row


FILTERS = [
    ("service=payment", ["nested", "top", "catalog"]),
    ("service=other", ["nowhere"]),
    ("severity=CRITICAL", ["nested", "top"]),
    ("severity=warning", ["nowhere", "catalog"]),
    ("route=routes%5B0%5D", ["top"]),
    ("route=routes%5B0%5D.routes%5B0%5D", ["nested"]),
    ("route=service", ["catalog"]),
    ("route=none", ["nowhere"]),
    ("severity=critical&route=routes%5B0%5D.routes%5B0%5D", ["nested"]),
    ("service=payment&severity=warning", ["catalog"]),
    ("status=resolved&service=payment", []),
]


def test_filters_by_service_severity_and_route(alerts_ui: Web):
    made = {
        "catalog": send(alerts_ui, "fp-catalog", severity="warning"),
        "top": send(alerts_ui, "fp-top"),
        "nowhere": send(alerts_ui, "fp-nowhere", severity="warning", service="other"),
        "nested": send(alerts_ui, "fp-nested", team="db"),
    }
    log_in(alerts_ui.client)

    for query, expected in FILTERS:
        page = alerts_ui.client.get(f"/ui/alerts?{query}").text
        assert ids_listed(page) == [made[name] for name in expected], query


def test_the_filter_form_works_without_script_and_keeps_its_choices(alerts_ui: Web):
    log_in(alerts_ui.client)
    page = alerts_ui.client.get("/ui/alerts?status=resolved&severity=warning"
                                "&route=routes%5B0%5D.routes%5B0%5D").text
    form = page.split('<form class="filters" method="get" action="/ui/alerts"')[1]
    form = form.split("</form>")[0]
    assert '<option value="resolved" selected>' in form
    assert 'name="severity" list="severity-words" value="warning"' in form
    assert '<option value="routes[0].routes[0]" selected>· routes[0].routes[0] (line' in form
    assert '<option value="service">' in form and '<option value="none">' in form
    assert "No alerts match these filters." in page


def test_an_unknown_status_falls_back_to_open_alerts(alerts_ui: Web):
    open_id = send(alerts_ui, "fp-open")
    log_in(alerts_ui.client)
    assert ids_listed(alerts_ui.client.get("/ui/alerts?status=bogus").text) == [open_id]


def test_long_lists_page_by_older_links(alerts_ui: Web):
    made = [send(alerts_ui, f"fp-{n}", run=False) for n in range(5)]
    log_in(alerts_ui.client)

    first = alerts_ui.client.get("/ui/alerts?limit=2").text
    assert ids_listed(first) == [made[4], made[3]]
    assert "<strong>5</strong> alerts match; showing 1 to 2." in first
    assert "Newest</a>" not in first
    older = older_link(first)
    assert older == f"/ui/alerts?status=open&before={made[3]}&limit=2"

    second = alerts_ui.client.get(older).text
    assert ids_listed(second) == [made[2], made[1]]
    assert "showing 3 to 4." in second and "Newest</a>" in second
    # A new alert arriving does not move the older page: it is anchored to an id.
    send(alerts_ui, "fp-new", run=False)
    assert ids_listed(alerts_ui.client.get(older).text) == [made[2], made[1]]
    last = alerts_ui.client.get(f"/ui/alerts?before={made[1]}&limit=2").text
    assert ids_listed(last) == [made[0]] and "Older →" not in last
    assert "<strong>6</strong> alerts match; showing 6 to 6." in last  # fp-new counts too


def test_the_live_rows_are_a_fragment_with_new_alerts_and_the_same_filters(alerts_ui: Web):
    first = send(alerts_ui, "fp-first")
    log_in(alerts_ui.client)
    page = alerts_ui.client.get("/ui/alerts?severity=critical").text
    assert ('hx-get="/ui/alerts/rows?status=open&amp;severity=critical" '
            'hx-trigger="every 5s" hx-swap="innerHTML"') in page
    assert '<script src="/static/htmx.min.js" defer></script>' in page

    later = send(alerts_ui, "fp-later")
    send(alerts_ui, "fp-quiet", severity="warning")
    rows = alerts_ui.client.get("/ui/alerts/rows?status=open&severity=critical")

    assert rows.status_code == 200
    assert "<html" not in rows.text and "<form" not in rows.text
    assert ids_listed(rows.text) == [later, first]
    assert "<strong>2</strong> alerts match" in rows.text
    script = alerts_ui.client.get("/static/htmx.min.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_the_pages_allow_only_our_own_script(alerts_ui: Web):
    log_in(alerts_ui.client)
    policy = alerts_ui.client.get("/ui/alerts").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy
    assert "unsafe-eval" not in policy and "default-src 'none'" in policy


def test_the_navigation_links_to_the_alerts(alerts_ui: Web):
    log_in(alerts_ui.client)
    home = alerts_ui.client.get("/ui/").text
    assert '<a href="/ui/alerts">Alerts</a>' in home
    assert '<a href="/ui/" aria-current="page">On call now</a>' in home
    page = alerts_ui.client.get("/ui/alerts").text
    assert '<a href="/ui/alerts" aria-current="page">Alerts</a>' in page


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_trusted_proxy_header_opens_the_alert_pages(tmp_path, db_url, clock, monkeypatch):
    monkeypatch.setenv(TRUSTED_HEADER_ENV, "X-Forwarded-User")
    web = make_web(tmp_path, db_url, clock, UI_CONFIG)
    try:
        alert_id = web.fire()
        header = {"X-Forwarded-User": "bob"}
        listed = web.client.get("/ui/alerts", headers=header)
        assert listed.status_code == 200 and ids_listed(listed.text) == [alert_id]
        assert web.client.get("/ui/alerts/rows", headers=header).status_code == 200
        assert web.client.get(f"/ui/alerts/{alert_id}", headers=header).status_code == 200
        web.client.cookies.clear()
        stranger = web.client.get("/ui/alerts", headers={"X-Forwarded-User": "mallory"},
                                  follow_redirects=False)
        assert stranger.status_code == 303
    finally:
        close_web(web)
