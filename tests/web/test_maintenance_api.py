"""The maintenance API: make, list, end and delete windows; held alerts page nobody.

The fake clock starts Monday 2026-03-02 03:00 UTC; alice is on call in
`primary`. Tokens: read (carol), write (bob), admin (alice).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.web.conftest import CONFIG, READ_TOKEN, WRITE_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock

MAINTENANCE = "/api/v1/maintenance"

FILE_WINDOW = """
maintenance:
  - name: network-change
    match: {rack: r7}
    start: 2026-03-02T02:00
    end: 2026-03-02T06:00
    reason: core switch swap
"""


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


def _post(web: Web, body, token: str = WRITE_TOKEN):
    # Sent as escaped JSON text, so a lone surrogate reaches the server as senders send it.
    return web.call("POST", MAINTENANCE, token, content=json.dumps(body))


def _create(web: Web, **body) -> dict:
    response = _post(web, {"services": ["payment"], "end": "2026-03-02T05:00:00Z",
                           "reason": "payment database upgrade", **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_creating_answers_the_window_and_writes_an_audit_row(web: Web):
    created = _create(web, match={"env": "prod"}, match_re={"alertname": "Payment.*"})

    assert created == {
        "id": created["id"], "name": f"#{created['id']}", "surface": "api",
        "services": ["payment"], "match": {"env": "prod"},
        "match_re": {"alertname": "Payment.*"}, "start": "2026-03-02T03:00:00Z",
        "end": "2026-03-02T05:00:00Z", "reason": "payment database upgrade",
        "status": "in_force", "created_at": "2026-03-02T03:00:00Z", "created_by": "bob",
        "ended_at": None, "ended_by": None, "deleted_at": None, "deleted_by": None,
    }
    (entry,) = [e for e in web.audit() if e.object_type == "maintenance"]
    assert (entry.actor, entry.surface, entry.action) == ("bob", "api", "maintenance.create")
    assert entry.after["id"] == created["id"]


def test_a_local_time_is_read_in_the_configs_zone(web: Web):
    created = _create(web, start="2026-03-02T04:00", end="2026-03-02T06:00")

    assert (created["start"], created["status"]) == ("2026-03-02T04:00:00Z", "scheduled")


def test_an_alert_in_the_window_pages_nobody_until_it_is_ended(web: Web):
    created = _create(web)
    alert_id = web.fire()

    assert web.pages() == []
    assert web.kinds(alert_id) == ["triggered", "silenced"]
    shown = web.call("GET", f"{MAINTENANCE}/{created['id']}", READ_TOKEN).json()
    assert shown["holding"] == [alert_id]

    web.clock.advance(minutes=10)
    ended = web.call("POST", f"{MAINTENANCE}/{created['id']}/end", WRITE_TOKEN)
    web.runtime.engine.run_due()

    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["ended_by"]) == ("ended", "bob")
    assert [page.user_id for page in web.pages()] == ["alice"]
    assert web.kinds(alert_id)[:5] == [
        "triggered", "silenced", "released", "routed", "escalated"]
    assert [e.action for e in web.audit() if e.object_type == "maintenance"] == [
        "maintenance.create", "maintenance.end"]


def test_ending_twice_is_a_no_op(web: Web):
    created = _create(web)
    first = web.call("POST", f"{MAINTENANCE}/{created['id']}/end", WRITE_TOKEN).json()
    web.clock.advance(minutes=5)

    again = web.call("POST", f"{MAINTENANCE}/{created['id']}/end", WRITE_TOKEN)

    assert again.status_code == 200
    assert again.json() == first


def test_listing_shows_the_files_windows_and_stored_ones_by_start(tmp_path: Path, db_url: str,
                                                                    clock: FakeClock):
    web = make_web(tmp_path, db_url, clock, CONFIG + textwrap.dedent(FILE_WINDOW))
    try:
        created = _create(web)
        later = _create(web, start="2026-03-02T04:00:00Z")
        web.call("DELETE", f"{MAINTENANCE}/{later['id']}", WRITE_TOKEN)

        listed = web.call("GET", MAINTENANCE, READ_TOKEN).json()["maintenance"]
        everything = web.call("GET", f"{MAINTENANCE}?all=true", READ_TOKEN).json()

        assert [(w["id"], w["status"]) for w in listed] == [
            ("config:network-change", "in_force"), (created["id"], "in_force")]
        assert listed[0]["surface"] == "config" and listed[0]["line"] > 0
        assert [(w["id"], w["status"]) for w in everything["maintenance"]] == [
            ("config:network-change", "in_force"), (created["id"], "in_force"),
            (later["id"], "cancelled")]
    finally:
        close_web(web)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_window_from_the_file_is_changed_in_the_file(tmp_path: Path, db_url: str,
                                                       clock: FakeClock, method: str):
    web = make_web(tmp_path, db_url, clock, CONFIG + textwrap.dedent(FILE_WINDOW))
    try:
        path = f"{MAINTENANCE}/config:network-change"
        response = web.call(method, path + ("/end" if method == "POST" else ""), WRITE_TOKEN)
        shown = web.call("GET", path, READ_TOKEN)

        assert response.status_code == 409
        assert "config file" in _error(response)["message"]
        assert (shown.status_code, shown.json()["reason"]) == (200, "core switch swap")
    finally:
        close_web(web)


def test_deleting_a_window_not_started_cancels_it(web: Web):
    created = _create(web, start="2026-03-02T04:00:00Z")

    response = web.call("DELETE", f"{MAINTENANCE}/{created['id']}", WRITE_TOKEN)
    again = web.call("DELETE", f"{MAINTENANCE}/{created['id']}", WRITE_TOKEN)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["deleted_by"] == "bob"
    assert again.json() == response.json()
    assert web.call("GET", MAINTENANCE, READ_TOKEN).json() == {"maintenance": []}


def test_a_window_that_is_over_cannot_be_deleted(web: Web):
    created = _create(web, end="2026-03-02T03:30:00Z")
    web.clock.advance(minutes=45)

    response = web.call("DELETE", f"{MAINTENANCE}/{created['id']}", WRITE_TOKEN)

    assert response.status_code == 409
    assert "past maintenance is kept" in _error(response)["message"]


@pytest.mark.parametrize(("body", "paths"), [
    ({"services": ["payment"], "reason": "x"}, ["end"]),
    ({"services": ["payment"], "end": "2026-03-02T05:00:00Z"}, ["reason"]),
    ({"end": "2026-03-02T05:00:00Z", "reason": "everything"}, ["services"]),
    ({"match": {}, "end": "2026-03-02T05:00:00Z", "reason": "everything"}, ["services"]),
    ({"match_re": {"host": "db-("}, "end": "2026-03-02T05:00:00Z", "reason": "x"},
     ["match_re.host"]),
    ({"services": "payment", "match": {"env": 1}, "end": "2026-03-02T05:00:00Z",
      "reason": "x"}, ["services", "match.env"]),
    ({"services": ["payment"], "end": "2026-03-02T02:00:00Z", "reason": "x"}, ["end"]),
    ({"services": ["payment"], "start": "2026-03-02T05:00:00Z", "end": "2026-03-02T04:00:00Z",
      "reason": "x"}, ["end"]),
    ({"services": ["payment"], "end": "2027-03-05T00:00:00Z", "reason": "x"}, ["end"]),
    ({"services": ["payment"], "end": "soon", "reason": "x"}, ["end"]),
    ({"services": ["payment"], "end": "2026-03-02T05:00:00Z", "reason": "x\u0000"},
     ["reason"]),
    ({"services": ["pay\ud800"], "end": "2026-03-02T05:00:00Z", "reason": "x"},
     ["services[0]"]),
    ({"services": ["payment"], "end": "2026-03-02T05:00:00Z", "reason": "  "}, ["reason"]),
    ({"services": ["payment"], "end": "2026-03-02T05:00:00Z", "reason": "x", "until": "1"},
     ["until"]),
])
def test_an_invalid_window_is_400_naming_the_field(web: Web, body, paths):
    response = _post(web, body)

    assert response.status_code == 400, response.text
    error = _error(response)
    assert error["code"] == "invalid_input"
    assert [f["path"] for f in error["fields"]] == paths
    assert web.call("GET", f"{MAINTENANCE}?all=true", READ_TOKEN).json() == {"maintenance": []}


def test_a_body_that_is_not_an_object_is_400(web: Web):
    assert _post(web, ["payment"]).status_code == 400


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"{MAINTENANCE}/999"), ("GET", f"{MAINTENANCE}/abc"),
    ("GET", f"{MAINTENANCE}/config:nope"), ("POST", f"{MAINTENANCE}/999/end"),
    ("DELETE", f"{MAINTENANCE}/99999999999"), ("DELETE", f"{MAINTENANCE}/-1"),
])
def test_unknown_windows_are_404(web: Web, method, path):
    response = web.call(method, path, WRITE_TOKEN)

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", MAINTENANCE), ("POST", MAINTENANCE), ("GET", f"{MAINTENANCE}/1"),
    ("POST", f"{MAINTENANCE}/1/end"), ("DELETE", f"{MAINTENANCE}/1"),
])
def test_without_a_token_every_call_is_401(web: Web, method, path):
    response = web.call(method, path, None, json={})

    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_a_read_token_reads_but_cannot_change_windows(web: Web):
    created = _create(web)

    refused = [
        _post(web, {"services": ["payment"], "end": "2026-03-02T05:00:00Z", "reason": "x"},
              READ_TOKEN),
        web.call("POST", f"{MAINTENANCE}/{created['id']}/end", READ_TOKEN),
        web.call("DELETE", f"{MAINTENANCE}/{created['id']}", READ_TOKEN),
    ]

    assert [r.status_code for r in refused] == [403, 403, 403]
    listed = web.call("GET", MAINTENANCE, READ_TOKEN).json()["maintenance"]
    assert [(w["id"], w["status"]) for w in listed] == [(created["id"], "in_force")]
