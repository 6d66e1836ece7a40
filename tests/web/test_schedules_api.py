"""The on-call API: who is on call, final shifts, a user's shifts, overrides.

`primary` hands over weekly on Mondays at 00:00 UTC from 2026-03-02: alice,
then bob. The fake clock starts Monday 2026-03-02 03:00. Tokens: read
(carol), write (bob), admin (alice).
"""

from __future__ import annotations

import pytest

from tests.web.conftest import ADMIN_TOKEN, READ_TOKEN, WRITE_TOKEN, Web

OVERRIDES = "/api/v1/schedules/primary/overrides"


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


def _post(web: Web, body, token: str = WRITE_TOKEN):
    return web.call("POST", OVERRIDES, token, json=body)


def _create(web: Web, **body) -> dict:
    response = _post(web, {"user": "carol", "start": "2026-03-02T04:00:00Z",
                           "end": "2026-03-02T08:00:00Z", **body})
    assert response.status_code == 201, response.text
    return response.json()


def _oncall(web: Web) -> list[dict]:
    response = web.call("GET", "/api/v1/oncall", READ_TOKEN)
    assert response.status_code == 200, response.text
    (primary,) = response.json()["schedules"]
    assert (primary["schedule"], primary["timezone"]) == ("primary", "UTC")
    return primary["oncall"]


def test_oncall_names_who_is_on_call_now_in_every_schedule(web: Web):
    response = web.call("GET", "/api/v1/oncall", READ_TOKEN)

    assert response.json() == {"at": "2026-03-02T03:00:00Z", "schedules": [{
        "schedule": "primary", "timezone": "UTC", "oncall": [{
            "user": "alice", "email": None, "start": "2026-03-02T00:00:00Z",
            "end": "2026-03-09T00:00:00Z", "source": "rotation"}]}]}


def test_an_override_made_by_the_api_changes_oncall_and_shifts(web: Web):
    created = _create(web)

    web.clock.set(web.clock.now().replace(hour=5))  # inside the override
    (shift,) = _oncall(web)
    shifts = web.call("GET", "/api/v1/schedules/primary/shifts?from=2026-03-02&to=2026-03-03",
                      READ_TOKEN).json()

    assert (shift["user"], shift["source"]) == ("carol", f"override:{created['id']}")
    assert [(s["user"], s["start"], s["end"], s["source"]) for s in shifts["shifts"]] == [
        ("alice", "2026-03-02T00:00:00Z", "2026-03-02T04:00:00Z", "rotation"),
        ("carol", "2026-03-02T04:00:00Z", "2026-03-02T08:00:00Z", f"override:{created['id']}"),
        ("alice", "2026-03-02T08:00:00Z", "2026-03-09T00:00:00Z", "rotation"),
    ]
    assert (shifts["from"], shifts["to"]) == ("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")


def test_creating_answers_the_override_and_writes_an_audit_row(web: Web):
    created = _create(web, replaces="alice")

    assert created["kind"] == "replace"
    assert (created["user"], created["replaces"]) == ("carol", "alice")
    assert (created["created_by"], created["surface"]) == ("bob", "api")
    (entry,) = [e for e in web.audit() if e.object_type == "override"]
    assert (entry.actor, entry.surface, entry.action) == ("bob", "api", "override.create")
    assert entry.after["id"] == created["id"]


def test_an_add_override_puts_two_people_on_call(web: Web):
    _create(web, kind="add", start="2026-03-02T03:00:00Z")

    assert sorted(s["user"] for s in _oncall(web)) == ["alice", "carol"]


def test_listing_and_deleting_overrides(web: Web):
    created = _create(web)

    listed = web.call("GET", OVERRIDES, READ_TOKEN).json()
    deleted = web.call("DELETE", f"/api/v1/overrides/{created['id']}", WRITE_TOKEN)
    again = web.call("DELETE", f"/api/v1/overrides/{created['id']}", ADMIN_TOKEN)
    after = web.call("GET", OVERRIDES, READ_TOKEN).json()

    assert [o["id"] for o in listed["overrides"]] == [created["id"]]
    assert deleted.status_code == 200
    assert deleted.json()["deleted_by"] == "bob"
    assert again.status_code == 200  # a retried DELETE is harmless
    assert after == {"schedule": "primary", "overrides": []}
    actions = [(e.action, e.actor) for e in web.audit() if e.object_type == "override"]
    assert actions == [("override.create", "bob"), ("override.delete", "bob")]
    web.clock.set(web.clock.now().replace(hour=5))
    assert [s["user"] for s in _oncall(web)] == ["alice"]


def test_an_ended_override_is_listed_only_with_all_and_cannot_be_deleted(web: Web):
    created = _create(web)
    web.clock.set(web.clock.now().replace(hour=9))

    current = web.call("GET", OVERRIDES, READ_TOKEN).json()["overrides"]
    everything = web.call("GET", OVERRIDES + "?all=true", READ_TOKEN).json()["overrides"]
    refused = web.call("DELETE", f"/api/v1/overrides/{created['id']}", WRITE_TOKEN)

    assert current == []
    assert [o["id"] for o in everything] == [created["id"]]
    assert refused.status_code == 409
    assert _error(refused)["code"] == "conflict"


def test_a_users_shifts_default_to_the_next_14_days_across_schedules(web: Web):
    _create(web, user="alice", kind="whole", start="2026-03-10T00:00:00Z",
            end="2026-03-10T12:00:00Z")

    response = web.call("GET", "/api/v1/users/alice/shifts", READ_TOKEN)

    body = response.json()
    assert (body["user"], body["from"], body["to"]) == (
        "alice", "2026-03-02T03:00:00Z", "2026-03-16T03:00:00Z")
    assert [(s["schedule"], s["start"], s["end"], s["source"][:9]) for s in body["shifts"]] == [
        ("primary", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "rotation"),
        ("primary", "2026-03-10T00:00:00Z", "2026-03-10T12:00:00Z", "override:"),
        ("primary", "2026-03-16T00:00:00Z", "2026-03-23T00:00:00Z", "rotation"),
    ]


@pytest.mark.parametrize(("body", "paths"), [
    ({"start": "2026-03-02T04:00:00Z", "end": "2026-03-02T08:00:00Z"}, ["user"]),
    ({"user": "carol", "start": "soon", "end": "2026-03-02T08:00:00Z"}, ["start"]),
    ({"user": "carol", "start": "2026-03-02T08:00:00Z", "end": "2026-03-02T04:00:00Z"},
     ["end"]),
    ({"user": "zed", "start": "2026-03-02T04:00:00Z", "end": "2026-03-02T08:00:00Z"},
     ["user"]),
    ({"user": 7, "start": "2026-03-02T04:00:00Z", "end": "2026-03-02T08:00:00Z"}, ["user"]),
    ({"user": "carol", "kind": "replace", "start": "2026-03-02T04:00:00Z",
      "end": "2026-03-02T08:00:00Z"}, ["replaces"]),
    ({"user": "carol", "kind": "add", "replaces": "alice", "start": "2026-03-02T04:00:00Z",
      "end": "2026-03-02T08:00:00Z"}, ["replaces"]),
    ({"user": "carol\u0000", "start": "2026-03-02T04:00:00Z", "end": "2026-03-02T08:00:00Z"},
     ["user"]),
])
def test_an_invalid_override_is_400_naming_the_field(web: Web, body, paths):
    response = _post(web, body)

    assert response.status_code == 400, response.text
    error = _error(response)
    assert error["code"] == "invalid_input"
    assert [f["path"] for f in error["fields"]] == paths


def test_a_body_that_is_not_an_object_is_400(web: Web):
    assert _post(web, ["carol"]).status_code == 400


@pytest.mark.parametrize("query", ["from=yesterday", "from=2026-03-05&to=2026-03-04",
                                   "from=2026-03-01&to=2028-03-01"])
def test_a_bad_range_is_400_naming_the_field(web: Web, query):
    response = web.call("GET", f"/api/v1/schedules/primary/shifts?{query}", READ_TOKEN)

    assert response.status_code == 400
    assert _error(response)["fields"][0]["path"] in ("from", "to")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/schedules/nope/shifts"), ("GET", "/api/v1/schedules/nope/overrides"),
    ("POST", "/api/v1/schedules/nope/overrides"), ("GET", "/api/v1/users/zed/shifts"),
    ("DELETE", "/api/v1/overrides/999"), ("DELETE", "/api/v1/overrides/99999999999"),
])
def test_unknown_things_are_404(web: Web, method, path):
    response = web.call(method, path, WRITE_TOKEN, json={})

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/oncall"), ("GET", "/api/v1/schedules/primary/shifts"),
    ("GET", "/api/v1/users/alice/shifts"), ("GET", OVERRIDES), ("POST", OVERRIDES),
    ("DELETE", "/api/v1/overrides/1"),
])
def test_without_a_token_every_call_is_401(web: Web, method, path):
    response = web.call(method, path, None, json={})

    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_a_read_token_reads_but_cannot_change_overrides(web: Web):
    created = _create(web)

    refused_post = _post(web, {"user": "carol", "start": "2026-03-02T04:00:00Z",
                               "end": "2026-03-02T08:00:00Z"}, READ_TOKEN)
    refused_delete = web.call("DELETE", f"/api/v1/overrides/{created['id']}", READ_TOKEN)

    assert (refused_post.status_code, refused_delete.status_code) == (403, 403)
    assert _error(refused_post)["code"] == "forbidden"
    assert web.call("GET", OVERRIDES, READ_TOKEN).status_code == 200
    assert len(web.call("GET", OVERRIDES, READ_TOKEN).json()["overrides"]) == 1


def test_add_true_makes_an_add_override_as_in_the_config_file(web: Web):
    created = _create(web, add=True, start="2026-03-02T03:00:00Z")

    assert created["kind"] == "add"
    assert sorted(s["user"] for s in _oncall(web)) == ["alice", "carol"]


@pytest.mark.parametrize(("extra", "path"), [
    ({"add": True, "replaces": "alice"}, "replaces"),
    ({"add": True, "kind": "whole"}, "add"),
    ({"add": "yes"}, "add"),
    ({"bogus": 1}, "bogus"),
])
def test_add_mixed_with_other_kinds_or_unknown_fields_is_400(web: Web, extra, path):
    response = _post(web, {"user": "carol", "start": "2026-03-02T04:00:00Z",
                           "end": "2026-03-02T08:00:00Z", **extra})

    assert response.status_code == 400
    assert path in [field["path"] for field in _error(response)["fields"]]


@pytest.mark.parametrize("query", ["from=0001-01-01&to=0001-01-02",
                                   "from=9999-12-30&to=9999-12-31"])
def test_times_at_the_ends_of_the_calendar_are_400_not_500(web: Web, query):
    for path in ("/api/v1/schedules/primary/shifts", "/api/v1/users/alice/shifts",
                 "/api/v1/reports/oncall-load"):
        response = web.call("GET", f"{path}?{query}", READ_TOKEN)

        assert response.status_code == 400, (path, response.text)


def test_an_override_cannot_reach_back_into_the_past(web: Web):
    response = _post(web, {"user": "carol", "start": "2026-03-01T00:00:00Z",
                           "end": "2026-03-03T00:00:00Z"})

    assert response.status_code == 400
    assert [f["path"] for f in _error(response)["fields"]] == ["start"]
    assert "cannot change the past" in _error(response)["fields"][0]["message"]
