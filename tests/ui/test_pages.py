"""The UI's rules, checked through the test client on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.ui.conftest import PASSWORD, UI_CONFIG, csrf_of, log_in
from tests.web.conftest import READ_TOKEN, Web, close_web, make_web
from tocsin.oncall.store import ScheduleOverride
from tocsin.web.ui_session import COOKIE, TRUSTED_HEADER_ENV


def test_a_page_without_a_session_sends_you_to_log_in(ui: Web):
    response = ui.client.get("/ui/schedules/primary", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/schedules/primary"


def test_login_sets_a_strict_cookie_and_lands_on_the_page_asked_for(ui: Web):
    token = csrf_of(ui.client.get("/ui/login").text)
    response = ui.client.post("/ui/login", follow_redirects=False, data={
        "username": "alice", "password": PASSWORD, "csrf": token,
        "next": "/ui/schedules/primary"})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/schedules/primary"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=43200" in cookie
    assert PASSWORD not in response.headers["set-cookie"]


def test_wrong_password_is_refused(ui: Web):
    token = csrf_of(ui.client.get("/ui/login").text)
    response = ui.client.post("/ui/login", data={
        "username": "alice", "password": "not the password", "csrf": token})
    assert response.status_code == 401
    assert "Wrong user or password" in response.text
    assert ui.client.get("/ui/", follow_redirects=False).status_code == 303


def test_a_user_without_a_password_cannot_log_in(ui: Web):
    token = csrf_of(ui.client.get("/ui/login").text)
    response = ui.client.post("/ui/login", data={
        "username": "bob", "password": PASSWORD, "csrf": token})
    assert response.status_code == 401


def test_login_never_redirects_to_another_site(ui: Web):
    token = csrf_of(ui.client.get("/ui/login").text)
    response = ui.client.post("/ui/login", follow_redirects=False, data={
        "username": "alice", "password": PASSWORD, "csrf": token, "next": "//evil.test/x"})
    assert response.headers["location"] == "/ui/"


def test_posts_without_the_csrf_token_are_refused(ui: Web):
    assert ui.client.post("/ui/login", data={
        "username": "alice", "password": PASSWORD}).status_code == 403
    log_in(ui.client)
    response = ui.client.post("/ui/schedules/primary/overrides", data={
        "user": "carol", "kind": "whole", "start": "2026-03-03T09:00",
        "end": "2026-03-03T17:00"})
    assert response.status_code == 403
    response = ui.client.post("/ui/schedules/primary/overrides", data={
        "user": "carol", "kind": "whole", "start": "2026-03-03T09:00",
        "end": "2026-03-03T17:00", "csrf": "forged"})
    assert response.status_code == 403
    with ui.runtime.sessions() as session:
        assert session.scalars(select(ScheduleOverride)).all() == []
    assert ui.client.post("/ui/logout", data={}).status_code == 403


def test_home_shows_who_the_rotation_puts_on_call(ui: Web):
    log_in(ui.client)
    page = ui.client.get("/ui/").text
    primary = page.split('href="/ui/schedules/primary"')[1].split("</tr>")[0]
    assert "Alice" in primary and "Mon 09 Mar 00:00" in primary and "layer rotation" in primary
    office = page.split('href="/ui/schedules/office"')[1].split("</tr>")[0]
    # 03:00 UTC is 04:00 in Berlin, outside office hours.
    assert "Nobody is on call" in office


def test_schedule_page_draws_two_weeks_with_gaps_and_now(ui: Web):
    log_in(ui.client)
    page = ui.client.get("/ui/schedules/office").text
    assert page.count('class="day-label">') == 15  # the hour ruler and 14 days
    assert 'class="bar gap' in page and "Gap: nobody on call" in page
    assert page.count('class="now"') == 1
    assert "Bob" in page and "Carol" in page


def test_the_override_form_adds_an_audited_override(ui: Web):
    log_in(ui.client)
    token = csrf_of(ui.client.get("/ui/schedules/primary").text)
    response = ui.client.post("/ui/schedules/primary/overrides", follow_redirects=False, data={
        "csrf": token, "user": "carol", "kind": "replace", "replaces": "alice",
        "start": "2026-03-03T09:00", "end": "2026-03-03T17:00"})
    assert response.status_code == 303
    page = ui.client.get(response.headers["location"]).text
    assert "added." in page and "override #1" in page
    with ui.runtime.sessions() as session:
        row = session.scalars(select(ScheduleOverride)).one()
    assert (row.user_id, row.replaces, row.surface, row.created_by) == (
        "carol", "alice", "ui", "alice")
    assert [(a.actor, a.surface) for a in ui.audit()][-1] == ("alice", "ui")


def test_a_wrong_override_is_explained_and_not_stored(ui: Web):
    log_in(ui.client)
    token = csrf_of(ui.client.get("/ui/schedules/primary").text)
    response = ui.client.post("/ui/schedules/primary/overrides", data={
        "csrf": token, "user": "carol", "kind": "replace", "replaces": "",
        "start": "2026-03-03T17:00", "end": "2026-03-03T09:00"})
    assert response.status_code == 400
    assert "Replaces:" in response.text and "To: must be after start" in response.text
    assert 'value="2026-03-03T17:00"' in response.text
    with ui.runtime.sessions() as session:
        assert session.scalars(select(ScheduleOverride)).all() == []


def test_a_session_lasts_twelve_hours(ui: Web):
    log_in(ui.client)
    ui.clock.advance(minutes=11 * 60)
    assert ui.client.get("/ui/", follow_redirects=False).status_code == 200
    ui.clock.advance(minutes=61)
    assert ui.client.get("/ui/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(ui: Web):
    log_in(ui.client)
    token = csrf_of(ui.client.get("/ui/").text)
    response = ui.client.post("/ui/logout", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    assert COOKIE not in ui.client.cookies
    assert ui.client.get("/ui/", follow_redirects=False).status_code == 303


def test_unknown_schedule_is_a_404_page(ui: Web):
    log_in(ui.client)
    response = ui.client.get("/ui/schedules/nope")
    assert response.status_code == 404 and "no schedule named" in response.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_trusted_proxy_header_logs_the_user_in(tmp_path, db_url, clock, monkeypatch):
    monkeypatch.setenv(TRUSTED_HEADER_ENV, "X-Forwarded-User")
    web = make_web(tmp_path, db_url, clock, UI_CONFIG)
    try:
        response = web.client.get("/ui/", headers={"X-Forwarded-User": "bob"})
        assert response.status_code == 200 and "Signed in as <strong>Bob" in response.text
        token = csrf_of(response.text)
        posted = web.client.post("/ui/schedules/primary/overrides", follow_redirects=False,
                                 headers={"X-Forwarded-User": "bob"}, data={
                                     "csrf": token, "user": "bob", "kind": "add",
                                     "start": "2026-03-03T09:00", "end": "2026-03-03T10:00"})
        assert posted.status_code == 303
        web.client.cookies.clear()
        unknown = web.client.get("/ui/", headers={"X-Forwarded-User": "mallory"},
                                 follow_redirects=False)
        assert unknown.status_code == 303
    finally:
        close_web(web)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_header_is_ignored_unless_configured(ui: Web):
    response = ui.client.get("/ui/", headers={"X-Forwarded-User": "alice"},
                             follow_redirects=False)
    assert response.status_code == 303


def test_home_lists_coverage_gaps_in_the_schedules_zone_with_a_link(ui: Web):
    log_in(ui.client)
    page = ui.client.get("/ui/").text
    section = page.split('id="coverage-heading"')[1].split("</section>")[0]

    assert 'href="/ui/schedules/office"' in section
    assert 'data-schedule="primary"' not in section
    # 03:00 UTC is 04:00 in Berlin: the night's gap is under way, the next one starts at 17:00.
    assert "15 gaps (Europe/Berlin)" in section
    assert "Mon 02 Mar 04:00 (now) to Mon 02 Mar 09:00" in section
    assert "Mon 02 Mar 17:00 to Tue 03 Mar 09:00" in section
    assert "10 more on the schedule" in section
    gaps = ui.client.get("/api/v1/schedules/office/gaps",
                         headers={"Authorization": f"Bearer {READ_TOKEN}"}).json()["gaps"]
    assert len(gaps) == 15  # the same function as the API and `tocsin check`
