"""Deleting an override from the schedule page: a button, a confirm page, an audit row.

No script runs in the UI, so the confirmation is a page of its own: the
button posts the CSRF token, the page shows the override and asks, and only
its own form (with `confirmed=yes`) deletes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from tests.ui.conftest import csrf_of, log_in
from tests.web.conftest import READ_TOKEN, Web
from tocsin.db import transaction
from tocsin.oncall import overrides
from tocsin.oncall.store import ScheduleOverride


def add(ui: Web, start: datetime, end: datetime, schedule: str = "primary") -> int:
    with transaction(ui.runtime.sessions) as session:
        row = overrides.create_override(
            session, config=ui.runtime.config_now(), schedule=schedule, user="carol",
            start=start, end=end, kind="whole", replaces=None, actor="bob", surface="cli",
            now=ui.clock.now())
        return row.id


def row(ui: Web, override_id: int) -> ScheduleOverride:
    with ui.runtime.sessions() as session:
        return session.scalars(
            select(ScheduleOverride).where(ScheduleOverride.id == override_id)).one()


def delete_form(page: str, override_id: int) -> str:
    action = f'action="/ui/schedules/primary/overrides/{override_id}/delete"'
    assert action in page, "no delete button for that override"
    return page.split(action)[1].split("</form>")[0]


TOMORROW = (datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 3, 17, tzinfo=UTC))


def test_each_stored_override_has_a_delete_button_and_the_file_ones_none(ui: Web):
    override_id = add(ui, *TOMORROW)
    log_in(ui.client)

    page = ui.client.get("/ui/schedules/primary").text

    form = delete_form(page, override_id)
    assert 'name="csrf"' in form and "Delete…" in form
    assert page.count("/delete\"") == 1


def test_the_button_asks_first_and_deletes_nothing(ui: Web):
    override_id = add(ui, *TOMORROW)
    log_in(ui.client)
    token = csrf_of(ui.client.get("/ui/schedules/primary").text)

    asked = ui.client.post(f"/ui/schedules/primary/overrides/{override_id}/delete",
                           data={"csrf": token})

    assert asked.status_code == 200
    assert f"Delete override #{override_id}?" in asked.text
    assert "Carol" in asked.text and "Tue 03 Mar 09:00" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert row(ui, override_id).deleted_at is None


def test_confirming_deletes_it_audited_as_the_user(ui: Web):
    override_id = add(ui, *TOMORROW)
    log_in(ui.client)
    token = csrf_of(ui.client.get("/ui/schedules/primary").text)

    done = ui.client.post(f"/ui/schedules/primary/overrides/{override_id}/delete",
                          data={"csrf": token, "confirmed": "yes"}, follow_redirects=False)

    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/schedules/primary?deleted={override_id}"
    page = ui.client.get(done.headers["location"]).text
    assert f"Override #{override_id} deleted." in page
    assert f"/overrides/{override_id}/delete" not in page
    deleted = row(ui, override_id)
    assert (deleted.deleted_by, deleted.deleted_at) == ("alice", ui.clock.now())
    assert [(a.action, a.actor, a.surface) for a in ui.audit()][-1] == (
        "override.delete", "alice", "ui")
    listed = ui.call("GET", "/api/v1/schedules/primary/overrides?include_deleted=true",
                     READ_TOKEN).json()["overrides"]
    assert [(o["id"], o["deleted_by"]) for o in listed] == [(override_id, "alice")]
    assert ui.call("GET", "/api/v1/schedules/primary/overrides",
                   READ_TOKEN).json()["overrides"] == []


def test_a_running_override_is_ended_now_and_the_page_says_so(ui: Web):
    override_id = add(ui, ui.clock.now(), datetime(2026, 3, 2, 12, tzinfo=UTC))
    ui.clock.advance(minutes=60)
    log_in(ui.client)
    token = csrf_of(ui.client.get("/ui/schedules/primary").text)

    asked = ui.client.post(f"/ui/schedules/primary/overrides/{override_id}/delete",
                           data={"csrf": token})
    ui.client.post(f"/ui/schedules/primary/overrides/{override_id}/delete",
                   data={"csrf": token, "confirmed": "yes"})

    assert "deleting it ends it now" in re.sub(r"\s+", " ", asked.text)
    ended = row(ui, override_id)
    assert ended.end_at == ui.clock.now() == ended.deleted_at


def test_without_the_csrf_token_nothing_is_deleted(ui: Web):
    override_id = add(ui, *TOMORROW)
    log_in(ui.client)

    for data in ({"confirmed": "yes"}, {"confirmed": "yes", "csrf": "forged"}):
        response = ui.client.post(f"/ui/schedules/primary/overrides/{override_id}/delete",
                                  data=data)
        assert response.status_code == 403

    assert row(ui, override_id).deleted_at is None


def test_an_override_of_another_schedule_is_not_found_here(ui: Web):
    override_id = add(ui, *TOMORROW, schedule="office")
    log_in(ui.client)
    token = csrf_of(ui.client.get("/ui/schedules/primary").text)

    response = ui.client.post(f"/ui/schedules/primary/overrides/{override_id}/delete",
                              data={"csrf": token, "confirmed": "yes"})

    assert response.status_code == 404
    assert row(ui, override_id).deleted_at is None
