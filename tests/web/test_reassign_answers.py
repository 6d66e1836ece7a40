"""Reassign and add responder from a text reply and the signed link page; snooze by keypad.

The fake clock reads Monday 2026-03-02 03:00 UTC. Alice holds step 1 of
`critical` (texts only), bob step 2, carol is on no step. Text replies are
signed with the `twilio` package's RequestValidator (see post_signed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Web, close_web, link_path, make_web
from tests.web.test_phone_answers import BOB_SMS, _alices_text, _audit, _press, _text
from tests.web.test_twilio_inbound import phone_web
from tocsin.clock import FakeClock

__all__ = ["phone_web"]  # the fixture, shared with test_twilio_inbound


def _entry(web: Web, alert_id: int, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in web.alert(alert_id)["timeline"]
                                 if e["kind"] == kind)
    return found


# --- Text replies ------------------------------------------------------------------------


def test_reassign_by_text_pages_the_person_named_from_step_one(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"REASSIGN {page.alert_id} bob")
    phone_web.runtime.engine.run_due()

    assert said == f"Tocsin: Alert {page.alert_id} reassigned to person bob; paging from step 1."
    detail = phone_web.alert(page.alert_id)
    assert (detail["status"], detail["policy"]) == ("triggered", "responders: user bob")
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice", "bob"]
    entry = _entry(phone_web, page.alert_id, "reassigned")
    assert (entry["actor"], entry["surface"]) == ("alice", "sms")
    assert _audit(phone_web) == [("alert.reassigned", "alice", "sms", page.alert_id)]


def test_reassign_to_a_schedule_alone_acts_on_the_one_alert_texted(phone_web: Web):
    page = _alices_text(phone_web)
    _text(phone_web, f"ACK {page.alert_id}")

    said = _text(phone_web, "reassign primary.")
    phone_web.runtime.engine.run_due()

    assert said == (f"Tocsin: Alert {page.alert_id} reassigned to schedule primary; "
                    "paging from step 1.")
    # An acknowledged alert goes back to triggered so the schedule's person is paged.
    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice", "alice"]


def test_add_by_text_pages_a_responder_beside_the_escalation(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"ADD #{page.alert_id} Bob")
    phone_web.runtime.engine.run_due()

    assert said == f"Tocsin: Added person bob as a responder to alert {page.alert_id}."
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice", "bob"]
    assert phone_web.alert(page.alert_id)["policy"] == "critical"  # its own escalation stays
    entry = _entry(phone_web, page.alert_id, "responder_added")
    assert (entry["actor"], entry["surface"]) == ("alice", "sms")
    assert _audit(phone_web) == [("alert.responder_added", "alice", "sms", page.alert_id)]


def test_add_a_policy_by_text(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"ADD {page.alert_id} critical", sender=BOB_SMS)

    assert said == (f"Tocsin: Added escalation policy critical as a responder to alert "
                    f"{page.alert_id}.")
    assert _audit(phone_web) == [("alert.responder_added", "bob", "sms", page.alert_id)]


@pytest.mark.parametrize(("body", "form", "named"), [
    ("REASSIGN {id} zed", "REASSIGN {id} <user|schedule>", "no person or schedule is named"),
    ("REASSIGN {id} critical", "REASSIGN {id} <user|schedule>", "no person or schedule"),
    ("ADD {id}", "ADD {id} <user|schedule|policy>", "name the person, schedule or"),
])
def test_an_unknown_or_missing_target_names_the_valid_form(phone_web: Web, body: str,
                                                           form: str, named: str):
    page = _alices_text(phone_web)

    said = _text(phone_web, body.format(id=page.alert_id))

    assert said.startswith("Tocsin: nothing changed; ")
    assert named in said
    assert f"Reply {form.format(id=page.alert_id)}, e.g. " in said
    assert phone_web.alert(page.alert_id)["policy"] == "critical"
    assert phone_web.audit() == []


def test_reassign_alone_with_two_open_alerts_asks_for_the_number(phone_web: Web):
    _alices_text(phone_web, "fp-first")
    phone_web.clock.advance(minutes=1)
    second = _alices_text(phone_web, "fp-second")

    said = _text(phone_web, "REASSIGN bob")

    assert said == ("Tocsin: 2 open alerts were texted to you; reply with the number, "
                    f"e.g. REASSIGN {second.alert_id} bob. Nothing was changed.")
    assert phone_web.audit() == []


# --- The keypad --------------------------------------------------------------------------


def test_keypad_4_snoozes_for_thirty_minutes_as_the_prompt_says(phone_web: Web):
    page = _alices_text(phone_web)

    response = _press(phone_web, page, "4")

    assert (f"<Say>Alert {page.alert_id} snoozed until 03:30 UTC. Press 5 to undo, or hang "
            "up.</Say>") in response.text
    assert phone_web.alert(page.alert_id)["acknowledged_by"] == "alice"
    assert _audit(phone_web) == [("alert.acknowledge", "alice", "phone", page.alert_id),
                                 ("alert.snoozed", "alice", "phone", page.alert_id)]
    phone_web.clock.advance(minutes=30)
    phone_web.runtime.engine.run_due()
    assert phone_web.alert(page.alert_id)["status"] == "triggered"


def test_an_unknown_key_repeats_a_prompt_that_offers_snooze(phone_web: Web):
    page = _alices_text(phone_web)

    response = _press(phone_web, page, "9")

    assert "3 to escalate now, 4 to snooze for 30 minutes." in response.text


# --- The signed link page ----------------------------------------------------------------


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock)
    yield made
    close_web(made)


def _alice_link(web: Web) -> tuple[int, str]:
    alert_id = web.fire()
    [page] = web.pages()
    assert (page.user_id, page.alert_id) == ("alice", alert_id)
    return alert_id, link_path(page)


def _options(html: str, action: str) -> list[str]:
    form = html.split(f'class="action-{action}"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'<option value="([^"]+)">', form)


def test_the_link_page_lists_people_and_schedules_to_reassign_to(web: Web):
    _alert_id, link = _alice_link(web)

    shown = web.client.get(link).text

    assert _options(shown, "reassign") == ["u:alice", "u:bob", "u:carol", "s:primary"]
    assert _options(shown, "responder") == ["u:alice", "u:bob", "u:carol", "s:primary",
                                            "p:critical"]
    assert '<optgroup label="Schedules">' in shown


def test_reassign_from_the_link_page_pages_the_chosen_person(web: Web):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": "reassign", "target": "u:carol"})
    web.runtime.engine.run_due()

    assert response.status_code == 200
    assert f"Alert {alert_id} reassigned to person carol; paging from step 1." in response.text
    assert [p.user_id for p in web.pages()] == ["alice", "carol"]
    entry = _entry(web, alert_id, "reassigned")
    assert (entry["actor"], entry["surface"]) == ("alice", "link")
    assert [(r.action, r.actor, r.surface) for r in web.audit()] == [
        ("alert.reassigned", "alice", "link")]


def test_add_responder_from_the_link_page_pages_the_schedule(web: Web):
    alert_id, link = _alice_link(web)
    web.client.post(link, data={"action": "reassign", "target": "u:carol"})
    web.runtime.engine.run_due()

    response = web.client.post(link, data={"action": "responder", "target": "s:primary"})
    web.runtime.engine.run_due()

    assert f"Added schedule primary as a responder to alert {alert_id}." in response.text
    assert [p.user_id for p in web.pages()] == ["alice", "carol", "alice"]
    assert _entry(web, alert_id, "responder_added")["surface"] == "link"


@pytest.mark.parametrize(("action", "target"), [
    ("reassign", ""), ("reassign", "u:nobody"), ("reassign", "p:critical"),
    ("responder", "x:carol"), ("responder", "carol"),
])
def test_a_target_the_config_does_not_define_is_refused(web: Web, action: str, target: str):
    alert_id, link = _alice_link(web)

    response = web.client.post(link, data={"action": action, "target": target})

    assert response.status_code == 400
    assert "target: choose a person" in response.text
    assert "nothing was changed" in response.text
    assert web.alert(alert_id)["policy"] == "critical"
    assert web.audit() == []


def test_an_acknowledged_alert_offers_reassign_but_not_add_responder(web: Web):
    alert_id, link = _alice_link(web)
    web.client.post(link, data={"action": "acknowledge"})

    shown = web.client.get(link).text
    refused = web.client.post(link, data={"action": "responder", "target": "u:bob"})

    assert 'class="action-reassign"' in shown
    assert 'class="action-responder"' not in shown
    assert refused.status_code == 409
    assert "unacknowledge it first" in refused.text
    assert web.alert(alert_id)["status"] == "acknowledged"
