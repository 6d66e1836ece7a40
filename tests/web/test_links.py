"""The signed link in a page: opening it is harmless, the button acts as the person paged."""

from __future__ import annotations

import pytest

from tests.web.conftest import WRITE_TOKEN, Web, link_path
from tocsin.links import LinkSigner


def _alice_link(web: Web) -> tuple[int, str]:
    alert_id = web.fire()
    [page] = web.pages()
    assert (page.user_id, page.alert_id) == ("alice", alert_id)
    return alert_id, link_path(page)


def test_opening_the_link_shows_a_confirm_page_and_changes_nothing(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.get(link)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "Payment API returning 500 errors" in response.text
    assert 'value="acknowledge"' in response.text
    assert "Acting as alice" in response.text
    assert web.alert(alert_id)["status"] == "triggered"
    assert "acknowledged" not in web.kinds(alert_id)
    assert web.audit() == []


def test_opening_the_link_does_not_stop_the_escalation(web: Web):
    _alert_id, link = _alice_link(web)
    web.client.get(link)
    web.client.get(link)

    web.clock.advance(minutes=5)
    web.runtime.engine.run_due()

    assert [page.user_id for page in web.pages()] == ["alice", "bob"]


def test_the_button_acknowledges_as_the_person_paged(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "acknowledge"})

    assert response.status_code == 200
    assert f"Alert {alert_id} acknowledged." in response.text
    detail = web.alert(alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "alice")
    ack = next(e for e in detail["timeline"] if e["kind"] == "acknowledged")
    assert (ack["actor"], ack["surface"]) == ("alice", "link")
    [row] = web.audit()
    assert (row.actor, row.surface, row.action) == ("alice", "link", "alert.acknowledge")


def test_a_later_steps_link_acts_as_that_steps_person(web: Web):
    alert_id = web.fire()
    web.clock.advance(minutes=5)
    web.runtime.engine.run_due()
    bobs_page = web.pages()[-1]
    assert bobs_page.user_id == "bob"

    web.client.post(link_path(bobs_page), data={"action": "acknowledge"})

    assert web.alert(alert_id)["acknowledged_by"] == "bob"


def test_the_resolve_button_resolves_as_the_person_paged(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "resolve"})

    assert response.status_code == 200
    detail = web.alert(alert_id)
    assert (detail["status"], detail["resolved_by"]) == ("resolved", "alice")


def _tamper_signature(web: Web, token: str) -> str:
    del web
    # Change a character in the middle of the signature: every bit there counts.
    head, signature = token.rsplit(".", 1)
    middle = len(signature) // 2
    swapped = "B" if signature[middle] == "A" else "A"
    return f"{head}.{signature[:middle]}{swapped}{signature[middle + 1:]}"


def _other_users_claim(web: Web, token: str) -> str:
    # Bob's claim on the same alert, carrying the signature made for alice.
    forged = web.runtime.links.token(web.pages()[0].alert_id, "bob")
    return forged.rsplit(".", 2)[0] + "." + ".".join(token.rsplit(".", 2)[1:])


def _signed_elsewhere(web: Web, token: str) -> str:
    del token
    stranger = LinkSigner("some-other-secret", "http://tocsin.test", web.clock)
    return stranger.token(web.pages()[0].alert_id, "alice")


@pytest.mark.parametrize("forge", [_tamper_signature, _other_users_claim, _signed_elsewhere],
                         ids=["tampered", "swapped-claim", "foreign-secret"])
def test_a_forged_link_is_refused_with_403(web: Web, forge):
    alert_id, link = _alice_link(web)
    token = link.removeprefix("/a/")
    forged = forge(web, token)
    assert forged != token

    shown = web.client.get(f"/a/{forged}")
    acted = web.client.post(f"/a/{forged}", data={"action": "acknowledge"})

    assert (shown.status_code, acted.status_code) == (403, 403)
    assert "not valid" in shown.text and "not valid" in acted.text
    assert web.alert(alert_id)["status"] == "triggered"


def test_a_link_older_than_a_day_has_expired(web: Web):
    alert_id, link = _alice_link(web)
    web.clock.advance(minutes=24 * 60 + 1)

    shown = web.client.get(link)
    acted = web.client.post(link, data={"action": "acknowledge"})

    assert (shown.status_code, acted.status_code) == (403, 403)
    assert "expired" in shown.text and "expired" in acted.text
    assert web.alert(alert_id)["status"] == "triggered"


def test_a_link_still_works_just_before_a_day_has_passed(web: Web):
    alert_id, link = _alice_link(web)
    web.clock.advance(minutes=24 * 60 - 1)

    response = web.client.post(link, data={"action": "acknowledge"})

    assert response.status_code == 200
    assert web.alert(alert_id)["acknowledged_by"] == "alice"


def test_acknowledging_a_resolved_alert_by_link_is_a_409_page(web: Web):
    alert_id, link = _alice_link(web)
    web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)

    response = web.client.post(link, data={"action": "acknowledge"})

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    assert "already resolved by bob" in response.text
    assert web.alert(alert_id)["status"] == "resolved"


def test_an_unknown_action_is_refused(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "delete"})

    assert response.status_code == 400
    assert web.alert(alert_id)["status"] == "triggered"
