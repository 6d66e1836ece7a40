"""/api/v1 with a web UI session instead of a bearer token (DESIGN.md's contract).

A session reads like a token; a change needs the session's CSRF token in
`X-CSRF-Token`, and is audited as the session's user on the "web" surface.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import csrf_of, log_in, set_password
from tests.web.conftest import ADMIN_TOKEN, Web
from tocsin.web.auth import CSRF_HEADER

OVERRIDE = {"user": "carol", "start": "2026-03-03T09:00", "end": "2026-03-03T17:00"}


def session_token(ui: Web, username: str = "alice") -> str:
    """Log in and return the CSRF token the UI's pages carry."""
    log_in(ui.client, username)
    return csrf_of(ui.client.get("/ui/").text)


def test_a_logged_in_session_reads_the_api(ui: Web):
    session_token(ui)

    response = ui.client.get("/api/v1/oncall")

    assert response.status_code == 200, response.text
    found = {s["schedule"]: [o["user"] for o in s["oncall"]] for s in response.json()["schedules"]}
    assert found["primary"] == ["alice"]


def test_without_a_session_or_a_token_the_api_answers_401(ui: Web):
    response = ui.client.get("/api/v1/oncall")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", [None, "", "forged-token"])
def test_a_change_without_the_sessions_csrf_token_is_403(ui: Web, header):
    session_token(ui)
    headers = {} if header is None else {CSRF_HEADER: header}

    response = ui.client.post("/api/v1/schedules/primary/overrides", json=OVERRIDE,
                              headers=headers)

    assert response.status_code == 403
    assert CSRF_HEADER in response.json()["error"]["message"]
    assert [a.action for a in ui.audit()] == ["user.password_set"]


def test_a_change_with_the_csrf_token_is_made_and_audited_as_the_user_on_web(ui: Web):
    token = session_token(ui)

    created = ui.client.post("/api/v1/schedules/primary/overrides", json=OVERRIDE,
                             headers={CSRF_HEADER: token})
    deleted = ui.client.delete(f"/api/v1/overrides/{created.json()['id']}",
                               headers={CSRF_HEADER: token})

    assert created.status_code == 201, created.text
    assert (created.json()["created_by"], created.json()["surface"]) == ("alice", "web")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted_by"] == "alice"
    assert [(a.action, a.actor, a.surface) for a in ui.audit()[-2:]] == [
        ("override.create", "alice", "web"), ("override.delete", "alice", "web")]


def test_a_session_holds_write_scope_and_admin_only_with_an_admin_token(ui: Web):
    set_password(ui, "bob")
    admin = session_token(ui, "alice")  # the config gives alice an admin token
    assert ui.client.post("/api/v1/config/reload",
                          headers={CSRF_HEADER: admin}).status_code == 200
    ui.client.cookies.clear()
    writer = session_token(ui, "bob")  # bob's token has write scope

    refused = ui.client.post("/api/v1/config/reload", headers={CSRF_HEADER: writer})

    assert refused.status_code == 403
    assert "this session has scope write" in refused.json()["error"]["message"]


def test_a_bearer_token_is_checked_as_before_whatever_cookie_comes_with_it(ui: Web):
    session_token(ui)

    wrong = ui.client.get("/api/v1/oncall", headers={"Authorization": "Bearer nope"})
    right = ui.client.post("/api/v1/schedules/primary/overrides", json=OVERRIDE,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    assert wrong.status_code == 401
    # No CSRF header needed: a token is not sent by the browser on its own.
    assert right.status_code == 201 and right.json()["surface"] == "api"


def test_an_expired_session_no_longer_reads_the_api(ui: Web):
    session_token(ui)
    ui.clock.advance(minutes=12 * 60 + 1)

    assert ui.client.get("/api/v1/oncall").status_code == 401
