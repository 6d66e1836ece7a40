"""The alert page's Not actionable button: a form with the session's CSRF token."""

from __future__ import annotations

from sqlalchemy import select

from tests.ui.alerting import send
from tests.ui.conftest import csrf_of, log_in
from tests.web.conftest import Web
from tocsin.alerts.store import Alert


def marked(web: Web, alert_id: int) -> bool:
    with web.runtime.sessions() as session:
        return session.scalars(select(Alert.not_actionable).where(Alert.id == alert_id)).one()


def press(web: Web, alert_id: int, data: dict[str, str]) -> tuple[int, str]:
    response = web.client.post(f"/ui/alerts/{alert_id}/not-actionable", data=data,
                               follow_redirects=False)
    if response.status_code != 303:
        return response.status_code, response.text
    landed = web.client.get(response.headers["location"])
    return landed.status_code, landed.text


def test_mark_and_unmark_from_the_alert_page_audited_as_the_user(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-noise")
    log_in(alerts_ui.client)
    page = alerts_ui.client.get(f"/ui/alerts/{alert_id}").text
    assert f'action="/ui/alerts/{alert_id}/not-actionable"' in page
    token = csrf_of(page)

    status, page = press(alerts_ui, alert_id, {"csrf": token})

    assert status == 200 and marked(alerts_ui, alert_id)
    assert "Marked not actionable" in page
    assert '<span class="badge not-actionable">not actionable</span>' in page
    assert ">Mark actionable</button>" in page
    assert [(a.action, a.actor, a.surface) for a in alerts_ui.audit()][-1] == (
        "alert.not_actionable", "alice", "ui")

    status, page = press(alerts_ui, alert_id, {"csrf": token, "undo": "1"})

    assert status == 200 and not marked(alerts_ui, alert_id)
    assert "No longer marked not actionable." in page
    assert [(a.action, a.actor) for a in alerts_ui.audit()][-1] == ("alert.actionable", "alice")


def test_the_button_needs_the_sessions_csrf_token(alerts_ui: Web):
    alert_id = send(alerts_ui, "fp-forged")
    log_in(alerts_ui.client)
    for forged in ({}, {"csrf": ""}, {"csrf": "forged-token"}):
        status, page = press(alerts_ui, alert_id, forged)
        assert status == 403 and "Form expired" in page
    assert not marked(alerts_ui, alert_id)
