"""The action items page and the incident page's action items: add, change status
inline once per form, push, filter; refused without the session's token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ui.conftest import csrf_of
from tests.ui.incidenting import as_user, declare, start
from tests.web.conftest import Web
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.postmortems.actions_store import TrackerPush
from tocsin.postmortems.store import ActionItem


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    yield from start(tmp_path, db_url, clock)


def form_token(page: str, name: str) -> str:
    found = re.search(rf'name="once" value="([^"]+-{name})"', page)
    assert found, name
    return found.group(1)


def add_from_incident(web: Web, key: str, **fields: str) -> tuple[int, str]:
    page = web.client.get(f"/ui/incidents/{key}").text
    data = {"csrf": csrf_of(page), "once": form_token(page, "add"), "incident": key,
            "back": f"/ui/incidents/{key}", "title": "Alert on disk usage", "owner": "bob",
            "due_date": "2026-03-10", "priority": "P0", **fields}
    response = web.client.post("/ui/action-items", data=data, follow_redirects=False)
    return response.status_code, response.text


def items(web: Web) -> list[ActionItem]:
    with web.runtime.sessions() as session:
        return list(session.scalars(select(ActionItem).order_by(ActionItem.id)))


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-action-item="(\d+)"', page)


def test_add_an_item_on_the_incident_page_and_see_it_there(web: Web) -> None:
    key = declare(web)
    status, _ = add_from_incident(web, key)
    assert status == 303

    page = web.client.get(f"/ui/incidents/{key}").text
    assert rows(page) == ["1"]
    assert "Alert on disk usage" in page and "Bob" in page
    [item] = items(web)
    assert (item.owner, item.priority, str(item.due_date), item.created_by) == (
        "bob", "P0", "2026-03-10", "alice")

    status, page = add_from_incident(web, key, owner="mallory", due_date="2026-02-30")
    assert status == 400
    assert "owner: &#39;mallory&#39; is not a user in the config" in page
    assert "due_date: &#39;2026-02-30&#39; is not a date" in page
    forged = web.client.post("/ui/action-items/1/status",
                             data={"csrf": "forged", "status": "done"})
    assert forged.status_code == 403
    assert [(i.id, i.status) for i in items(web)] == [(1, "planned")]


def test_the_inline_status_form_acts_once_however_often_it_is_sent(web: Web) -> None:
    key = declare(web)
    add_from_incident(web, key)
    page = web.client.get("/ui/action-items").text
    assert rows(page) == ["1"]
    data = {"csrf": csrf_of(page), "once": form_token(page, "s1"), "status": "done",
            "back": "/ui/action-items"}

    first = web.client.post("/ui/action-items/1/status", data=data, follow_redirects=False)
    web.clock.advance(minutes=1)
    with web.runtime.sessions() as session:
        done_at = session.get(ActionItem, 1).completed_at  # type: ignore[union-attr]
    second = web.client.post("/ui/action-items/1/status",
                             data={**data, "status": "planned"}, follow_redirects=False)

    assert (first.status_code, second.status_code) == (303, 303)
    assert (items(web)[0].status, items(web)[0].completed_at) == ("done", done_at)
    with web.runtime.sessions() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry))
                   if a.object_type == "action_item"]
    assert actions == ["action_item.created", "action_item.updated"]
    assert rows(web.client.get("/ui/action-items").text) == []  # open only, by default
    assert rows(web.client.get("/ui/action-items?status=done").text) == ["1"]


def test_filters_and_push_only_to_configured_trackers(web: Web) -> None:
    key = declare(web)
    add_from_incident(web, key, owner="bob", due_date="2026-03-01")
    add_from_incident(web, key, owner="carol", due_date="")

    assert rows(web.client.get("/ui/action-items?owner=carol").text) == ["2"]
    assert rows(web.client.get("/ui/action-items?overdue=yes").text) == ["1"]
    bad = web.client.get("/ui/action-items?status=closed")
    assert bad.status_code == 400 and "status: use one of" in bad.text
    page = web.client.get("/ui/action-items").text
    assert 'action="/ui/action-items/1/push"' not in page
    response = web.client.post("/ui/action-items/1/push", data={
        "csrf": csrf_of(page), "once": "x-p1", "tracker": "jira"})
    assert response.status_code == 400 and "tracker: use a configured tracker" in response.text
    with web.runtime.sessions() as session:
        assert list(session.scalars(select(TrackerPush))) == []


def test_the_owner_of_an_item_on_a_private_incident_can_open_and_close_it(web: Web) -> None:
    key = declare(web, title="Quiet breach", private="yes")
    status, _ = add_from_incident(web, key, owner="carol")
    assert status == 303

    as_user(web, "carol")
    # The link a reminder carries (engine/action_item_reminders).
    page = web.client.get("/ui/action-items?id=1")
    assert page.status_code == 200 and rows(page.text) == ["1"]
    assert "Alert on disk usage" in page.text
    assert web.client.get(f"/ui/incidents/{key}").status_code == 200
    data = {"csrf": csrf_of(page.text), "once": form_token(page.text, "s1"), "status": "done",
            "back": "/ui/action-items"}
    done = web.client.post("/ui/action-items/1/status", data=data, follow_redirects=False)
    assert done.status_code == 303
    assert [(i.status, i.owner) for i in items(web)] == [("done", "carol")]
    as_user(web, "bob")
    assert rows(web.client.get("/ui/action-items?id=1").text) == []
    assert web.client.get(f"/ui/incidents/{key}").status_code == 404
