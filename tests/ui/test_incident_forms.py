"""The incident page's forms: each one's effect on the timeline and the header, the
problems it shows beside its fields, and its refusal without the session's token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ui.incidenting import act, audit_of, declare, field_error, start, timeline_rows
from tests.web.conftest import Web
from tocsin.alerts import service as alert_service
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.incidents.store import IncidentAlert, TimelineRow


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    yield from start(tmp_path, db_url, clock)


def clock_value(page: str, clock_id: str) -> str:
    found = re.search(rf'<div id="clock-{clock_id}"><dt>[^<]*</dt><dd>(.*?)</dd>', page, re.S)
    assert found, clock_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_status_and_mitigation_move_the_clocks(web: Web) -> None:
    key = declare(web)
    with web.runtime.sessions() as session:
        paged = session.scalars(select(IncidentAlert.alert_id)).one()
    web.clock.advance(minutes=2)
    with transaction(web.runtime.sessions) as session:
        alert_service.acknowledge(session, config=web.runtime.config_now(), alert_id=paged,
                                  actor="alice", surface="api", now=web.clock.now())
    web.clock.advance(minutes=8)

    status, page = act(web, key, "status", status="identified", note="bad deploy 4411",
                       mitigated="yes")

    assert status == 200
    assert '<p class="notice" role="status">Status saved.</p>' in page
    assert '<span class="badge identified">identified</span>' in page
    assert timeline_rows(page)[-2:] == [
        ("mitigated", "Mon 02 Mar 2026 10:10:00 mitigated impact mitigated Alice ui"),
        ("status", "Mon 02 Mar 2026 10:10:00 status status investigating -> identified: "
                   "bad deploy 4411 Alice ui")]
    assert clock_value(page, "tta") == "2m Mon 02 Mar 2026 10:02:00"
    assert clock_value(page, "ttm") == "10m Mon 02 Mar 2026 10:10:00"
    assert clock_value(page, "duration").startswith("10m so far (open)")
    web.clock.advance(minutes=20)
    _status, page = act(web, key, "status", status="resolved")
    assert clock_value(page, "duration") == "30m target 1h 00m"
    assert [a for a, _who, _via in audit_of(web, key)] == [
        "incident.declare", "incident.mitigated", "incident.status", "incident.status"]
    assert {(who, via) for _a, who, via in audit_of(web, key)} == {("alice", "ui")}


def test_severity_and_role_forms(web: Web) -> None:
    key = declare(web)

    _status, page = act(web, key, "severity", severity="SEV1")
    assert '<span class="badge sev">SEV1</span>' in page
    assert timeline_rows(page)[-1][1].endswith("severity severity SEV2 -> SEV1 Alice ui")

    _status, page = act(web, key, "role", role="Investigator", user="bob")
    assert ('<p class="notice" role="status">Bob is now Investigator: Finds the cause and '
            "tries fixes, saying what they try.</p>") in page
    assert '<tr data-role="Investigator"><th scope="row">Investigator</th>\n      <td>Bob</td>' \
        in page
    assert timeline_rows(page)[-1] == ("role", "Mon 02 Mar 2026 10:00:00 role Investigator: "
                                               "bob Alice ui")

    status, page = act(web, key, "role", role="Investigator", user="nobody-here")
    assert status == 400
    assert field_error(page, "role-user").startswith("name a user from the config")
    assert "Nothing was changed" in page


def test_a_backdated_note_sorts_by_its_time_and_an_edit_keeps_who_and_when(web: Web) -> None:
    key = declare(web)
    web.clock.advance(minutes=30)

    # 09:50 in Bangkok, where Alice is: ten minutes before the declaration.
    _status, page = act(web, key, "note", text="Error rate rose after deploy 4411",
                        occurred_at="2026-03-02T09:50")

    assert '<p class="notice" role="status">Note added to the timeline.</p>' in page
    first = timeline_rows(page)[0]
    assert first == ("note", "Mon 02 Mar 2026 09:50:00 backdated: written Mon 02 Mar 2026 "
                             "10:30:00 note Error rate rose after deploy 4411 Alice ui Edit")
    with web.runtime.sessions() as session:
        entry_id = session.scalars(select(TimelineRow.id).where(TimelineRow.kind == "note")).one()

    form = web.client.get(f"/ui/incidents/{key}/timeline/{entry_id}").text
    assert 'value="2026-03-02T09:50"' in form
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    web.clock.advance(minutes=5)
    response = web.client.post(f"/ui/incidents/{key}/timeline/{entry_id}", data={
        "csrf": csrf, "text": "Error rate rose after deploy 4411 (canary only)",
        "occurred_at": "2026-03-02T09:50"}, follow_redirects=False)
    assert response.status_code == 303
    page = web.client.get(response.headers["location"]).text
    assert timeline_rows(page)[0][1].endswith(
        "note Error rate rose after deploy 4411 (canary only) edited by Alice at "
        "Mon 02 Mar 2026 10:35:00 Alice ui Edit")

    future = web.client.post(f"/ui/incidents/{key}/timeline/{entry_id}", data={
        "csrf": csrf, "text": "x", "occurred_at": "2026-03-09T09:00"})
    assert future.status_code == 400
    assert field_error(future.text, "edit-occurred_at") == "give a time at or before now"
    declared = timeline_rows(page)[1]
    assert declared[0] == "declared" and "Edit" not in declared[1]
    with web.runtime.sessions() as session:
        automatic = session.scalars(select(TimelineRow.id).where(
            TimelineRow.kind == "declared")).one()
    assert web.client.get(f"/ui/incidents/{key}/timeline/{automatic}").status_code == 404
    status, page = act(web, key, "note", text="", occurred_at="not a time")
    assert status == 400
    assert field_error(page, "note-text") == "is empty; write some text"
    assert field_error(page, "note-occurred_at").startswith("'not a time' is not a date")


def test_responder_and_update_forms(web: Web) -> None:
    key = declare(web, services=())

    _status, page = act(web, key, "responder", target="carol")
    assert "Responder paged and added to the incident." in page
    kind, text = timeline_rows(page)[-1]
    assert kind == "responder" and "paging through user carol" in text
    web.runtime.engine.run_due()
    assert [p.user_id for p in web.pages()] == ["carol"]

    _status, page = act(web, key, "update", text="Rolled back; watching the error rate")
    assert timeline_rows(page)[-1] == ("update", "Mon 02 Mar 2026 10:00:00 update Rolled back; "
                                                 "watching the error rate Alice ui Edit")

    status, page = act(web, key, "responder", target="the whole company")
    assert status == 400
    assert field_error(page, "responder-target").startswith("name a user (id, e-mail or name)")
    assert 'value="the whole company"' in page


def test_the_impact_form_changes_only_what_was_changed(web: Web) -> None:
    key = declare(web)
    web.clock.advance(minutes=10)
    fields = {"impact_start": "2026-03-02T09:45", "users_affected": "1200",
              "services": ["payment", "search"], "summary": "Some card payments fail",
              "root_cause": ""}

    _status, page = act(web, key, "impact", **fields)

    assert "Impact saved." in page
    kind, text = timeline_rows(page)[-1]
    assert kind == "impact"
    assert "users_affected 1200" in text and "summary Some card payments fail" in text
    assert "services ['payment', 'search']" in text
    assert "impact_start 2026-03-02T02:45:00+00:00" in text  # Alice's 09:45 in Bangkok
    assert clock_value(page, "start") == "Mon 02 Mar 2026 09:45:00"
    entries = len(timeline_rows(page))
    _status, page = act(web, key, "impact", **fields)  # sent again as shown
    assert len(timeline_rows(page)) == entries

    status, page = act(web, key, "impact", **{**fields, "users_affected": "many"})
    assert status == 400
    assert field_error(page, "impact-users_affected") == "give a whole number, 0 or more"

    assert "<dt>Users affected</dt><dd>1200</dd>" in page
    _status, page = act(web, key, "impact", **{**fields, "users_affected": " "})
    assert "Impact saved." in page
    assert "<dt>Users affected</dt><dd>unknown</dd>" in page
    assert "users_affected cleared" in timeline_rows(page)[-1][1]
    assert 'name="users_affected" inputmode="numeric" value=""' in page


@pytest.mark.parametrize("action", ["status", "severity", "role", "note", "responder", "update",
                                    "impact"])
def test_every_form_refuses_a_post_without_the_session_token(web: Web, action: str) -> None:
    key = declare(web)
    before = timeline_rows(web.client.get(f"/ui/incidents/{key}").text)
    data = {"status": "resolved", "severity": "SEV1", "role": "Scribe", "user": "bob",
            "text": "hello", "target": "carol", "users_affected": "5"}

    for token in ("", "forged-token"):
        status, page = act(web, key, action, csrf=token, **data)
        assert status == 403 and "Form expired" in page

    assert timeline_rows(web.client.get(f"/ui/incidents/{key}").text) == before
    assert audit_of(web, key) == [("incident.declare", "alice", "ui")]


def test_a_form_past_the_size_cap_is_refused_whole(web: Web) -> None:
    key = declare(web)
    before = timeline_rows(web.client.get(f"/ui/incidents/{key}").text)

    status, page = act(web, key, "note", text="x" * 300_000)

    assert status == 413 and "Form too large" in page
    assert timeline_rows(web.client.get(f"/ui/incidents/{key}").text) == before
