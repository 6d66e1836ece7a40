"""The signed link page's buttons: snooze, escalate now, unacknowledge, as the person paged.

Opening the page (GET) shows the buttons the alert's state allows and never
changes anything; each button posts back. The fake clock reads Monday
2026-03-02 03:00 UTC; alice holds step 1, bob step 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.conftest import WRITE_TOKEN, Web, close_web, link_path, make_web
from tests.web.test_alert_groups_web import GROUPING, storm
from tocsin.clock import FakeClock
from tocsin.notify import store as outbox

CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
       "frame-ancestors 'none'")


def _alice_link(web: Web) -> tuple[int, str]:
    alert_id = web.fire()
    [page] = web.pages()
    assert (page.user_id, page.alert_id) == ("alice", alert_id)
    return alert_id, link_path(page)


def _buttons(html: str) -> list[str]:
    return re.findall(r'name="action" value="([a-z]+)"', html)


def _audit(web: Web) -> list[tuple[str, str, str]]:
    return [(row.action, row.actor, row.surface) for row in web.audit()]


def test_the_page_of_a_triggered_alert_offers_every_action_but_unacknowledge(web: Web):
    alert_id, link = _alice_link(web)

    shown = web.client.get(link)

    assert shown.status_code == 200
    assert _buttons(shown.text) == ["acknowledge", "snooze", "escalate", "reassign",
                                    "responder", "resolve"]
    assert re.findall(r'<option value="(\d+)"', shown.text) == ["15", "30", "60", "240"]
    assert '<option value="30" selected>30 minutes</option>' in shown.text
    assert ">Escalate now</button>" in shown.text
    assert shown.headers["content-security-policy"] == CSP
    assert shown.headers["x-frame-options"] == "DENY"
    assert shown.headers["cache-control"] == "no-store"
    assert web.alert(alert_id)["status"] == "triggered"
    assert web.audit() == []


def test_snooze_from_the_page_acknowledges_for_the_time_chosen(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "snooze", "minutes": "60"})

    assert response.status_code == 200
    assert f"Alert {alert_id} snoozed until 04:00 UTC." in response.text
    assert response.headers["content-security-policy"] == CSP
    assert _buttons(response.text) == ["snooze", "escalate", "unacknowledge", "reassign",
                                       "resolve"]
    detail = web.alert(alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "alice")
    snoozed = next(e for e in detail["timeline"] if e["kind"] == "snoozed")
    assert (snoozed["actor"], snoozed["surface"]) == ("alice", "link")
    assert _audit(web) == [("alert.acknowledge", "alice", "link"),
                           ("alert.snoozed", "alice", "link")]


def test_a_snooze_from_the_page_triggers_again_when_it_ends(web: Web):
    alert_id, link = _alice_link(web)
    web.client.post(link, data={"action": "snooze", "minutes": "15"})

    web.clock.advance(minutes=10)
    web.runtime.engine.run_due()
    assert [p.user_id for p in web.pages()] == ["alice"]
    web.clock.advance(minutes=5)
    web.runtime.engine.run_due()

    assert web.alert(alert_id)["status"] == "triggered"
    assert [p.user_id for p in web.pages()] == ["alice", "alice"]


@pytest.mark.parametrize("minutes", ["45", "0", "", "30.5", "-15"])
def test_a_snooze_length_the_page_does_not_offer_is_refused(web: Web, minutes: str):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "snooze", "minutes": minutes})

    assert response.status_code == 400
    assert "minutes: choose one of 15, 30, 60, 240" in response.text
    assert web.alert(alert_id)["status"] == "triggered"
    assert web.audit() == []


def test_escalate_now_from_the_page_pages_step_two(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "escalate"})
    web.runtime.engine.run_due()

    assert response.status_code == 200
    assert f"Alert {alert_id} escalated to step 2 of critical." in response.text
    with web.runtime.sessions() as session:
        rows = session.scalars(select(outbox.Delivery).where(
            outbox.Delivery.alert_id == alert_id, outbox.Delivery.channel == "webhook")
            .order_by(outbox.Delivery.id))
        assert [(row.step, row.user_id, row.status) for row in rows] == [
            (1, "alice", "sent"), (2, "bob", "sent")]
    assert [p.user_id for p in web.pages()] == ["alice", "bob"]
    assert _audit(web) == [("alert.escalated_now", "alice", "link")]


def test_unacknowledge_from_the_page_resumes_the_escalation(web: Web):
    alert_id, link = _alice_link(web)
    web.client.post(link, data={"action": "acknowledge"})
    assert "unacknowledge" in _buttons(web.client.get(link).text)

    response = web.client.post(link, data={"action": "unacknowledge"})

    assert response.status_code == 200
    assert f"Alert {alert_id} unacknowledged; escalation resumes at step 1." in response.text
    assert web.alert(alert_id)["status"] == "triggered"
    assert _audit(web) == [("alert.acknowledge", "alice", "link"),
                           ("alert.unacknowledged", "alice", "link")]
    web.runtime.engine.run_due()
    assert [p.user_id for p in web.pages()] == ["alice", "alice"]  # step 1 again, at once
    web.clock.advance(minutes=5)
    web.runtime.engine.run_due()
    assert [p.user_id for p in web.pages()] == ["alice", "alice", "bob"]


def test_unacknowledging_a_triggered_alert_is_nothing_to_do(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "unacknowledge"})

    assert response.status_code == 200
    assert "Nothing to do" in response.text
    assert f"Alert {alert_id} is not acknowledged; nothing changed." in response.text
    assert web.audit() == []


@pytest.mark.parametrize(("action", "doing"), [
    ("snooze", "snooze"), ("escalate", "escalate"), ("unacknowledge", "unacknowledge")])
def test_a_resolved_alert_shows_no_buttons_and_refuses_them(web: Web, action: str, doing: str):
    alert_id, link = _alice_link(web)
    web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)

    shown = web.client.get(link)
    response = web.client.post(link, data={"action": action, "minutes": "30"})

    assert _buttons(shown.text) == []
    assert response.status_code == 409
    assert (f"cannot {doing} alert {alert_id}: it is already resolved by bob at "
            "2026-03-02T03:00:00Z; nothing was changed") in response.text
    assert [row.surface for row in web.audit()] == ["api"]


def test_resolving_again_from_the_page_says_who_resolved_it(web: Web):
    alert_id, link = _alice_link(web)
    web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)

    response = web.client.post(link, data={"action": "resolve"})

    assert response.status_code == 200
    assert "Nothing to do" in response.text
    assert f"Alert {alert_id} was already resolved by bob" in response.text
    assert [row.surface for row in web.audit()] == ["api"]


@pytest.fixture
def grouped(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, GROUPING)
    yield made
    close_web(made)


def test_snoozing_a_grouped_alert_snoozes_its_group(grouped: Web):
    ids = storm(grouped, "db-1", "db-2", "db-3")
    member = ids[1]
    token = grouped.runtime.links.token(member, "alice")

    response = grouped.client.post(f"/a/{token}", data={"action": "snooze", "minutes": "15"})

    assert f"Alert {member} snoozed with its group until 03:15 UTC." in response.text
    assert [grouped.alert(i)["status"] for i in ids] == ["acknowledged"] * 3
    grouped.clock.advance(minutes=16)
    grouped.runtime.engine.run_due()
    assert [grouped.alert(i)["status"] for i in ids] == ["triggered"] * 3
    assert {(row.action, row.surface) for row in grouped.audit()} >= {
        ("alert.acknowledge", "link"), ("alert.snoozed", "link")}


def test_the_page_keeps_its_buttons_without_any_script(web: Web):
    _alert_id, link = _alice_link(web)

    shown = web.client.get(link).text

    assert "<script" not in shown
    assert len(re.findall(r'<form method="post" action=""', shown)) == 6
