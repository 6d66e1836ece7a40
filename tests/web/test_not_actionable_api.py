"""POST /api/v1/alerts/{id}/not-actionable, and the button on the alert's UI page."""

from __future__ import annotations

from sqlalchemy import select

from tests.web.conftest import READ_TOKEN, WRITE_TOKEN
from tocsin.audit import AuditEntry


def marks(web):
    with web.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["alert.not_actionable", "alert.actionable"])).order_by(AuditEntry.id))
        return [(r.action, r.actor, r.surface, r.before, r.after) for r in rows]


def test_mark_and_unmark_through_the_api(web):
    alert_id = web.fire()
    path = f"/api/v1/alerts/{alert_id}/not-actionable"

    marked = web.call("POST", path, WRITE_TOKEN, json={"not_actionable": True})
    assert marked.status_code == 200, marked.text
    assert (marked.json()["not_actionable"], marked.json()["changed"]) == (True, True)
    assert web.alert(alert_id)["not_actionable"] is True
    repeat = web.call("POST", path, WRITE_TOKEN, json={"not_actionable": True})
    assert repeat.json()["changed"] is False
    unmarked = web.call("POST", path, WRITE_TOKEN, json={"not_actionable": False})
    assert unmarked.json()["not_actionable"] is False

    assert [k for k in web.kinds(alert_id) if "actionable" in k] == [
        "not_actionable", "actionable"]
    assert marks(web) == [
        ("alert.not_actionable", "bob", "api", {"not_actionable": False},
         {"not_actionable": True}),
        ("alert.actionable", "bob", "api", {"not_actionable": True},
         {"not_actionable": False}),
    ]


def test_bad_input_and_scopes(web):
    alert_id = web.fire()
    path = f"/api/v1/alerts/{alert_id}/not-actionable"

    wrong = web.call("POST", path, WRITE_TOKEN, json={"not_actionable": "yes"})
    assert wrong.status_code == 400
    assert [f["path"] for f in wrong.json()["error"]["fields"]] == ["body.not_actionable"]
    assert web.call("POST", path, READ_TOKEN, json={}).status_code == 403
    missing = web.call("POST", "/api/v1/alerts/999999/not-actionable", WRITE_TOKEN, json={})
    assert missing.status_code == 404
    assert web.alert(alert_id)["not_actionable"] is False
    assert marks(web) == []
