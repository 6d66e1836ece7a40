"""The alert's page: what it shows, how it escapes what senders wrote, and its two buttons."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.ui.alerting import ALERTS_CONFIG, send
from tests.ui.conftest import csrf_of, log_in
from tests.web.conftest import WRITE_TOKEN, Web
from tocsin.alerts.store import Alert

HOSTILE = "<script>alert('title')</script>"
# Where the top route starts in the file the test writes, for the explanations.
TOP_LINE = ALERTS_CONFIG.splitlines().index("  - match: {severity: critical}") + 1


def status_of(web: Web, alert_id: int) -> str:
    with web.runtime.sessions() as session:
        return session.scalars(select(Alert.status).where(Alert.id == alert_id)).one()


def section(page: str, heading_id: str) -> str:
    """The section under a heading, its whitespace runs made single spaces."""
    return " ".join(page.split(f'id="{heading_id}"')[1].split("</section>")[0].split())


def post(web: Web, alert_id: int, action: str, csrf: str | None) -> tuple[int, str]:
    """POST a button's form; the status, and the page it lands on after a redirect."""
    data = {"csrf": csrf} if csrf is not None else {}
    response = web.client.post(f"/ui/alerts/{alert_id}/{action}", data=data,
                               follow_redirects=False)
    if response.status_code != 303:
        return response.status_code, response.text
    landed = web.client.get(response.headers["location"])
    return landed.status_code, landed.text


def test_the_page_shows_the_alert_its_route_policy_step_and_timeline(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-db", team="db", title="Replication lag on db-2",
                    annotations={"description": "Lag is 300 s.\nCheck the primary.",
                                 "runbook_url": "https://runbooks.example/db-lag"},
                    generator_url="https://prometheus.example/graph?g0.expr=lag&x=1")
    log_in(alerts_ui.client)

    page = alerts_ui.client.get(f"/ui/alerts/{alert_id}").text

    assert f'<span class="id">#{alert_id}</span> Replication lag on db-2</h1>' in page
    for fact in ("<dt>Severity</dt><dd>critical</dd>", "<dt>Urgency</dt><dd>high</dd>",
                 "<dt>Service</dt><dd>payment</dd>", "<dt>Integration</dt><dd>prometheus</dd>",
                 "<dt>Dedup key</dt><dd><code>fp-db</code></dd>"):
        assert fact in page
    assert '<a href="https://runbooks.example/db-lag" rel="noopener noreferrer">' in page
    assert 'href="https://prometheus.example/graph?g0.expr=lag&amp;x=1"' in page
    assert '<div class="description">Lag is 300 s.\nCheck the primary.</div>' in page
    assert "<code>team</code></th><td><code>db</code>" in section(page, "labels-heading")
    routing = section(page, "routing-heading")
    assert "<dd>routes[0].routes[0] (line" in routing
    assert "<dd>implicit:primary" in routing and "step 1 of 1" in routing
    timeline = section(page, "timeline-heading")
    assert timeline.index('data-kind="triggered"') < timeline.index('data-kind="routed"')
    assert "integration:prometheus</td>" in timeline and "<td>source</td>" in timeline
    pages = section(page, "pages-heading")
    assert "<td>Alice</td><td>webhook</td> <td>1</td>" in pages


def test_todays_routing_is_worked_out_now_and_labelled_so(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-top")
    log_in(alerts_ui.client)
    page = alerts_ui.client.get(f"/ui/alerts/{alert_id}").text
    today = section(page, "today-heading")
    assert "Today's routing</h3>" in today
    assert f"Route routes[0] (line {TOP_LINE}) takes it and notifies escalation policy" in today
    assert f"<li>routes[0] (line {TOP_LINE}): yes, matched severity=critical</li>" in today
    assert "Not the policy" not in today
    assert "step 1 of 2" in section(page, "routing-heading")

    # The config changes: the alert keeps the route it took, today's routing moves.
    alerts_ui.rewrite_config(alerts_ui.config_path.read_text().replace(
        "match: {severity: critical}", "match: {severity: page-me}"))
    alerts_ui.runtime.config.reload()
    page = alerts_ui.client.get(f"/ui/alerts/{alert_id}").text
    assert f"<dd>routes[0] (line {TOP_LINE}): matched severity=critical</dd>" in page
    today = section(page, "today-heading")
    assert f"routes[0] (line {TOP_LINE}): no, severity=&#39;critical&#39; is not" in today
    assert "No route takes it; the service's policy critical" in today
    assert "Not the policy this alert runs" not in today  # the service names the same one
    alerts_ui.rewrite_config(alerts_ui.config_path.read_text().replace(
        "escalation_policy: critical}", "escalation_policy: calm}").replace(
        "escalation_policies:", "escalation_policies:\n  - {name: calm, steps: "
        "[{targets: [carol], timeout_minutes: 5}]}"))
    alerts_ui.runtime.config.reload()
    today = section(alerts_ui.client.get(f"/ui/alerts/{alert_id}").text, "today-heading")
    assert "the service's policy calm" in today and "Not the policy this alert runs" in today


def test_what_senders_wrote_is_escaped_and_only_web_links_are_links(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-evil", title=HOSTILE, team="<b>db</b>",
                    annotations={"runbook_url": "javascript:alert('runbook')",
                                 "description": "<img src=x onerror=alert(1)>"},
                    generator_url='https://ok.example/" onmouseover="alert(1)')
    log_in(alerts_ui.client)

    for path in (f"/ui/alerts/{alert_id}", "/ui/alerts", "/ui/alerts/rows"):
        page = alerts_ui.client.get(path).text
        assert HOSTILE not in page and "&lt;script&gt;alert(&#39;title&#39;)" in page, path

    page = alerts_ui.client.get(f"/ui/alerts/{alert_id}").text
    assert "<b>db</b>" not in page and "&lt;b&gt;db&lt;/b&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript:' not in page
    runbook = " ".join(page.split("<dt>Runbook</dt>")[1].split("</dd>")[0].split())
    assert runbook == ("<dd>javascript:alert(&#39;runbook&#39;) "
                       '<span class="zone">(not an http or https link)</span>')
    assert 'onmouseover="alert' not in page
    assert re.findall(r"<script[^>]*>", page) == []  # the alert page runs no script at all


def test_acknowledge_then_resolve_with_the_buttons_audited_as_the_user(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-ack")
    log_in(alerts_ui.client)
    page = alerts_ui.client.get(f"/ui/alerts/{alert_id}").text
    assert f'action="/ui/alerts/{alert_id}/ack"' in page
    token = csrf_of(page)

    status, page = post(alerts_ui, alert_id, "ack", token)

    assert status == 200 and status_of(alerts_ui, alert_id) == "acknowledged"
    assert "Acknowledged. Queued pages for this alert are cancelled." in page
    assert f'action="/ui/alerts/{alert_id}/ack"' not in page  # nothing left to acknowledge
    row = section(page, "timeline-heading").split('data-kind="acknowledged"')[1]
    assert "acknowledged by alice via ui" in row and "<td>Alice</td>" in row
    assert "<td>ui</td>" in row
    assert [(a.action, a.actor, a.surface) for a in alerts_ui.audit()][-1] == (
        "alert.acknowledge", "alice", "ui")

    status, page = post(alerts_ui, alert_id, "resolve", token)

    assert status == 200 and status_of(alerts_ui, alert_id) == "resolved"
    assert "Resolved." in page and "/resolve\"" not in page
    assert [(a.action, a.actor) for a in alerts_ui.audit()][-1] == ("alert.resolve", "alice")


def test_acknowledging_a_resolved_alert_says_who_resolved_it(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-late")
    log_in(alerts_ui.client)
    token = csrf_of(alerts_ui.client.get(f"/ui/alerts/{alert_id}").text)
    alerts_ui.clock.advance(minutes=2)
    resolved = alerts_ui.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)
    assert resolved.status_code == 200
    audited = len(alerts_ui.audit())

    status, page = post(alerts_ui, alert_id, "ack", token)

    assert status == 200
    assert "Already resolved by Bob at Mon 02 Mar 2026 03:02:00 (UTC); nothing changed." in page
    assert status_of(alerts_ui, alert_id) == "resolved" and len(alerts_ui.audit()) == audited
    status, page = post(alerts_ui, alert_id, "resolve", token)
    assert status == 200 and "Already resolved by Bob" in page


def test_acknowledging_twice_changes_nothing_and_says_so(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-twice")
    log_in(alerts_ui.client)
    token = csrf_of(alerts_ui.client.get(f"/ui/alerts/{alert_id}").text)
    post(alerts_ui, alert_id, "ack", token)
    audited = len(alerts_ui.audit())
    status, page = post(alerts_ui, alert_id, "ack", token)
    assert status == 200 and "Already acknowledged by Alice at" in page
    assert len(alerts_ui.audit()) == audited


def test_the_buttons_need_the_sessions_csrf_token(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-csrf")
    for action in ("ack", "resolve"):
        status, page = post(alerts_ui, alert_id, action, None)  # not even logged in
        assert status == 403 and "Form expired" in page
    log_in(alerts_ui.client)
    for action in ("ack", "resolve"):
        for forged in (None, "", "forged-token"):
            status, _page = post(alerts_ui, alert_id, action, forged)
            assert status == 403, (action, forged)
    assert status_of(alerts_ui, alert_id) == "triggered"
    assert [a for a in alerts_ui.audit() if a.action.startswith("alert.")] == []


def test_an_unknown_alert_is_a_404_page(alerts_ui: Web):
    log_in(alerts_ui.client)
    for path in ("/ui/alerts/999", "/ui/alerts/0", "/ui/alerts/abc",
                 "/ui/alerts/99999999999999999999"):
        response = alerts_ui.client.get(path)
        assert response.status_code == 404, path
        assert "No such alert" in response.text and 'href="/ui/alerts"' in response.text
    token = csrf_of(alerts_ui.client.get("/ui/alerts").text)
    status, page = post(alerts_ui, 999, "ack", token)
    assert status == 404 and "No such alert" in page


def test_the_alert_page_needs_a_login(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-login")
    response = alerts_ui.client.get(f"/ui/alerts/{alert_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/login?next=/ui/alerts/{alert_id}"


def test_odd_numbers_in_the_path_are_404_pages_not_errors(alerts_ui: Web):
    log_in(alerts_ui.client)
    for path in ("/ui/alerts/%C2%B2", "/ui/alerts/%D9%A1", "/ui/alerts/-1"):
        assert alerts_ui.client.get(path).status_code == 404, path
    listed = alerts_ui.client.get("/ui/alerts?before=%C2%B2&limit=%C2%B2")
    assert listed.status_code == 200
