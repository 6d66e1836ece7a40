"""The incident list, the declare form and who may see a private incident."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ui.alerting import send
from tests.ui.conftest import csrf_of, log_in
from tests.ui.incidenting import (
    act,
    as_user,
    audit_of,
    declare,
    field_error,
    listed,
    start,
    timeline_rows,
    token,
)
from tests.web.conftest import Web
from tocsin.alerts.store import Alert
from tocsin.clock import FakeClock


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    yield from start(tmp_path, db_url, clock)


def test_declaring_with_the_form_opens_the_incident_as_the_logged_in_user(web: Web) -> None:
    form = web.client.get("/ui/incidents/new").text
    assert "<strong>SEV1</strong>: Critical: full outage, all users affected" in form
    assert "target time to resolve 30m" in form and "low urgency pages" in form
    assert 'name="services" value="search"' in form

    key = declare(web, "Checkout failing", "SEV2", ("payment",),
                  summary="Card payments fail for some users")
    page = web.client.get(f"/ui/incidents/{key}?done=declared").text

    assert '<p class="notice" role="status">Incident declared.</p>' in page
    assert f'<span class="id">{key}</span> Checkout failing</h1>' in page
    assert '<span class="badge sev">SEV2</span>' in page
    assert '<tr data-role="Commander"><th scope="row">Commander</th>\n      <td>Alice</td>' in page
    assert "Card payments fail for some users" in page
    rows = timeline_rows(page)
    # Alice reads Bangkok time: 03:00 UTC is 10:00 there.
    assert rows[0] == ("declared", "Mon 02 Mar 2026 10:00:00 declared declared SEV2: "
                                   "Checkout failing Alice ui")
    assert [kind for kind, _text in rows] == ["declared", "role", "paged"]
    assert "Commander: alice" in rows[1][1]
    assert [p.user_id for p in web.pages()] == ["alice"]  # on call for payment
    assert audit_of(web, key) == [("incident.declare", "alice", "ui")]


def test_a_refused_declaration_shows_each_problem_beside_its_field(web: Web) -> None:
    response = web.client.post("/ui/incidents", data={
        "csrf": token(web), "title": "  ", "severity": "SEV9", "summary": "ok"})

    assert response.status_code == 400
    page = response.text
    assert field_error(page, "declare-title") == "is empty; say what is wrong in one line"
    assert field_error(page, "declare-severity").startswith("'SEV9' is unknown; use one of SEV1")
    assert "Traceback" not in page
    assert 'name="summary" rows="3" aria-invalid' not in page
    nul = web.client.post("/ui/incidents", data={
        "csrf": token(web), "title": "Disk full", "severity": "SEV3", "summary": "a\x00b"})
    assert nul.status_code == 400
    assert "NUL character" in field_error(nul.text, "declare-summary")
    assert 'value="Disk full"' in nul.text  # what was typed stays
    assert listed(web.client.get("/ui/incidents?status=all").text) == []


def test_the_list_filters_by_status_severity_service_and_day(web: Web) -> None:
    first = declare(web, "Payments down", "SEV1", ("payment",))
    act(web, first, "status", status="resolved")
    web.clock.advance(minutes=24 * 60)
    log_in(web.client)  # the session lasts 12 hours
    second = declare(web, "Search slow", "SEV3", ("search",))
    web.clock.advance(minutes=24 * 60)
    log_in(web.client)  # the session lasts 12 hours
    third = declare(web, "Refunds stuck", "SEV2", ("payment",))

    def shown(query: str) -> list[str]:
        response = web.client.get(f"/ui/incidents?{query}")
        assert response.status_code == 200, response.text
        return listed(response.text)

    assert shown("") == [third, second]  # open ones, newest first
    assert shown("status=all") == [third, second, first]  # open ones first
    assert shown("status=resolved") == [first]
    assert shown("status=all&severity=SEV1") == [first]
    assert shown("status=all&service=payment") == [third, first]
    # Days are Alice's (Bangkok): the second incident was declared on Tuesday 3 March.
    assert shown("status=all&since=2026-03-03&until=2026-03-03") == [second]
    assert shown("status=all&since=2026-03-04") == [third]
    row = web.client.get("/ui/incidents?status=all").text.split(f'data-incident="{first}"')[1]
    row = row.split("</tr>")[0]
    assert "Alice" in row and "Mon 02 Mar 2026 10:00:00" in row and "resolved" in row
    assert "<td>0s</td>" in row  # resolved the moment it was declared
    bad = web.client.get("/ui/incidents?since=yesterday")
    assert bad.status_code == 400
    assert field_error(bad.text, "filter-since") == "'yesterday' is not a day; use the form " \
                                                    "2026-03-02"


def test_a_private_incident_is_seen_only_by_its_members_and_admins(web: Web) -> None:
    as_user(web, "bob")
    key = declare(web, "Leaked credentials", "SEV1", (), private="yes")
    assert '<span class="badge private">private</span>' in web.client.get(
        f"/ui/incidents/{key}").text

    as_user(web, "carol")
    assert listed(web.client.get("/ui/incidents").text) == []
    page = web.client.get(f"/ui/incidents/{key}")
    assert page.status_code == 404 and "Leaked" not in page.text
    assert act(web, key, "note", text="peeking")[0] == 404

    as_user(web, "alice")  # an admin
    assert listed(web.client.get("/ui/incidents").text) == [key]
    assert all("peeking" not in text for _kind, text in timeline_rows(
        web.client.get(f"/ui/incidents/{key}").text))


def test_someone_not_logged_in_is_sent_to_the_login_form(web: Web) -> None:
    key = declare(web)
    web.client.cookies.clear()
    for path in ("/ui/incidents", f"/ui/incidents/{key}", "/ui/incidents/new"):
        response = web.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/login?next=/ui/incidents")


def test_an_incident_is_declared_from_the_alert_page_with_the_alert_linked(web: Web) -> None:
    alert_id = send(web, "fp-1", title="Payment errors above 5%")
    page = web.client.get(f"/ui/alerts/{alert_id}").text
    assert '<button type="submit" class="secondary">Declare incident</button>' in page
    csrf = page.split('name="csrf" value="')[1].split('"')[0]

    response = web.client.post(f"/ui/alerts/{alert_id}/incident",
                               data={"csrf": csrf, "severity": "SEV2"}, follow_redirects=False)

    assert response.status_code == 303
    incident = web.client.get(response.headers["location"]).text
    assert "Payment errors above 5%</h1>" in incident
    assert f'<a href="/ui/alerts/{alert_id}">#{alert_id}\n      Payment errors above 5%</a>' \
        in incident
    assert any(f"alert {alert_id} linked" in text for _kind, text in timeline_rows(incident))
    key = response.headers["location"].split("/")[-1].split("?")[0]
    assert (f'Part of\n  <a href="/ui/incidents/{key}">{key}</a> (investigating: Payment '
            "errors above 5%)." in web.client.get(f"/ui/alerts/{alert_id}").text)
    refused = web.client.post(f"/ui/alerts/{alert_id}/incident", data={"severity": "SEV2"})
    assert refused.status_code == 403
    again = web.client.post(f"/ui/alerts/{alert_id}/incident",
                            data={"csrf": csrf, "severity": "SEV1"}, follow_redirects=False)
    assert again.status_code == 409
    assert f"alert {alert_id} is already in incident {key}" in html.unescape(again.text)


def test_a_double_submitted_declare_form_declares_once(web: Web) -> None:
    form = web.client.get("/ui/incidents/new").text
    once = form.split('name="once" value="')[1].split('"')[0]
    data = {"csrf": csrf_of(form), "once": once, "title": "Checkout failing",
            "severity": "SEV2", "services": ["payment"]}
    first = web.client.post("/ui/incidents", data=data, follow_redirects=False)
    second = web.client.post("/ui/incidents", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    key = first.headers["location"].split("/")[-1].split("?")[0]
    assert second.headers["location"] == f"/ui/incidents/{key}"
    shown = web.client.get("/ui/incidents").text
    assert shown.count("Checkout failing") == 1
    # A fresh form is a fresh declaration.
    assert declare(web, "Checkout failing") != key


def test_hand_edited_addresses_and_odd_values_get_a_page_never_a_500(web: Web) -> None:
    key = declare(web)
    for path in ("/ui/incidents?status=<b>&severity=SEV%00&service=x&since=0001-01-01",
                 "/ui/incidents?until=9999-12-31&since=2026-13-01",
                 "/ui/incidents/INC-99999999999", "/ui/incidents/INC-0", "/ui/incidents/%00",
                 f"/ui/incidents/{key}/timeline/99999999999", f"/ui/incidents/{key}/timeline/x"):
        response = web.client.get(path)
        assert response.status_code in (200, 400, 404), (path, response.status_code)
        assert "<b>" not in response.text
    status, page = act(web, key, "impact", impact_start="0500-01-01T00:00")
    assert status == 400
    assert field_error(page, "impact-impact_start") == "is before 1970; give when it happened"
    assert act(web, key, "nonsense", text="x")[0] == 404
    assert act(web, "INC-99999999999", "note", text="x",
               csrf=token(web))[0] == 404


def test_an_alert_page_names_a_private_incident_only_to_its_members(web: Web) -> None:
    alert_id = send(web, "fp-2", title="Odd logins from one address")
    as_user(web, "bob")
    page = web.client.get(f"/ui/alerts/{alert_id}").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    made = web.client.post(f"/ui/alerts/{alert_id}/incident", follow_redirects=False,
                           data={"csrf": csrf, "severity": "SEV1", "private": "yes"})
    key = made.headers["location"].split("/")[-1].split("?")[0]
    assert f'href="/ui/incidents/{key}"' in web.client.get(f"/ui/alerts/{alert_id}").text

    as_user(web, "carol")
    seen = web.client.get(f"/ui/alerts/{alert_id}").text
    assert "Part of" not in seen and key not in seen


def test_a_private_incidents_page_alerts_hide_its_title_and_stay_in_it(web: Web) -> None:
    as_user(web, "bob")
    key = declare(web, "SECRET acquisition leaked", "SEV1", ("payment",), private="yes")
    with web.runtime.sessions() as session:
        page_id = session.scalars(select(Alert.id).order_by(Alert.id)).first()

    as_user(web, "carol")
    listing = web.client.get("/ui/alerts").text
    shown = web.client.get(f"/ui/alerts/{page_id}").text
    csrf = shown.split('name="csrf" value="')[1].split('"')[0]
    refused = web.client.post(f"/ui/alerts/{page_id}/incident", follow_redirects=False,
                              data={"csrf": csrf, "severity": "SEV2"})

    neutral = f"Private incident {key} (SEV1): you are paged as a responder"
    assert neutral in html.unescape(listing) and neutral in html.unescape(shown)
    assert "SECRET" not in listing + shown + refused.text
    assert refused.status_code == 404
    as_user(web, "alice")
    assert listed(web.client.get("/ui/incidents").text) == [key]


def test_an_unknown_status_in_the_list_address_is_shown_as_an_error(web: Web) -> None:
    key = declare(web)
    response = web.client.get("/ui/incidents?status=closed")
    assert response.status_code == 400
    assert field_error(response.text, "filter-status") == (
        "unknown status 'closed'; use open, investigating, identified, monitoring, "
        "resolved, all")
    assert listed(response.text) == [key]  # the open ones, as without a status
    assert field_error(web.client.get("/ui/incidents?status=all").text, "filter-status") == ""
