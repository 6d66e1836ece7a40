"""The keypad's later asks: undo in the same call, and the reassign and add responder lists.

The fake clock reads Monday 2026-03-02 03:00 UTC. Alice is called for
alert N of `critical` (step 1 the schedule primary, which alice holds; step
2 bob); carol is on no step. Each key is posted to the `action` URL of the
`<Gather>` the previous answer held, signed as Twilio signs it.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.web.conftest import PUBLIC_URL, Web
from tests.web.test_phone_answers import _alices_text, _audit
from tests.web.test_reassign_answers import _entry
from tests.web.test_twilio_inbound import AUTH_TOKEN, CONFIG, phone_web, post_signed
from tocsin.notify.twilio import voice_ack_url

__all__ = ["phone_web"]  # the fixture, shared with test_twilio_inbound

DATABASE_POLICY = """  - name: database
    steps:
      - {targets: [carol], timeout_minutes: 5}
"""
DAVE = '  - {id: dave, name: Dave, contacts: {webhook: "http://hooks.test/dave"}}\n'


def _call(page: Any) -> str:
    """The path the call's first `<Gather>` posts to."""
    url = voice_ack_url(page.ack_url)
    assert url is not None
    return url.removeprefix(PUBLIC_URL)


def _press(web: Web, path: str, digits: str, call: str = "CA1") -> httpx.Response:
    response = post_signed(web, path, {"Digits": digits, "CallSid": call})
    assert response.status_code == 200, response.text
    return response


def _asked(response: httpx.Response) -> tuple[str, str, str]:
    """The answer's `<Gather>`: where its key goes, what it says, what is said without a key."""
    root = ElementTree.fromstring(response.text)  # noqa: S314 - our own answer
    gather = root.find("Gather")
    assert gather is not None, response.text
    action = gather.attrib["action"].removeprefix(PUBLIC_URL)
    return action, gather.findtext("Say") or "", root.findtext("Say") or ""


def _said(response: httpx.Response) -> str:
    """What an answer without a `<Gather>` says."""
    root = ElementTree.fromstring(response.text)  # noqa: S314 - our own answer
    assert root.find("Gather") is None, response.text
    return " ".join(say.text or "" for say in root.iter("Say"))


def _reload(web: Web, text: str) -> None:
    web.rewrite_config(text)
    web.runtime.config.reload()


def test_5_undoes_an_acknowledgement_pressed_by_mistake_in_the_same_call(phone_web: Web):
    page = _alices_text(phone_web)
    alert_id = page.alert_id

    undo_at, offered, _ = _asked(_press(phone_web, _call(page), "1"))
    again_at, reoffered, _ = _asked(_press(phone_web, undo_at, "5"))

    assert offered == f"Alert {alert_id} acknowledged. Press 5 to undo, or hang up."
    assert reoffered == (f"Alert {alert_id} unacknowledged; escalation resumes at step 1. "
                         "Press 1 to acknowledge again, 7 to add a responder, or hang up.")
    detail = phone_web.alert(alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("triggered", None)
    assert _audit(phone_web) == [("alert.acknowledge", "alice", "phone", alert_id),
                                 ("alert.unacknowledged", "alice", "phone", alert_id)]
    # Pressing 1 again later in the call is a new answer, not a repeat of the first press.
    _asked(_press(phone_web, again_at, "1"))
    assert phone_web.alert(alert_id)["acknowledged_by"] == "alice"
    assert len(phone_web.audit()) == 3


def test_5_on_an_alert_never_acknowledged_offers_to_acknowledge_not_again(phone_web: Web):
    page = _alices_text(phone_web)

    _at, offered, _ = _asked(_press(phone_web, _call(page), "5"))

    assert "nothing changed" in offered.lower()
    assert offered.endswith("Press 1 to acknowledge, 7 to add a responder, or hang up.")
    assert "again" not in offered
    assert phone_web.alert(page.alert_id)["status"] == "triggered"


def test_an_undo_lets_the_escalation_page_step_two_on_time(phone_web: Web):
    page = _alices_text(phone_web)
    undo_at, _offered, _ = _asked(_press(phone_web, _call(page), "1"))
    _press(phone_web, undo_at, "5")

    phone_web.clock.advance(minutes=5)
    phone_web.runtime.engine.run_due()

    assert "bob" in [p.user_id for p in phone_web.pages("sms")]


def test_no_undo_is_offered_for_someone_elses_acknowledgement(phone_web: Web):
    page = _alices_text(phone_web)
    post_signed(phone_web, "/twilio/sms", {"From": "+15550111", "Body": f"ACK {page.alert_id}"})

    said = _said(_press(phone_web, _call(page), "1"))

    assert said == f"Alert {page.alert_id} was already acknowledged by bob. Goodbye."


def test_6_lists_the_policys_people_and_schedules_first_and_never_the_caller(phone_web: Web):
    page = _alices_text(phone_web)

    action, said, unanswered = _asked(_press(phone_web, _call(page), "6"))

    assert said == (f"To reassign alert {page.alert_id}, press 1 for schedule primary, "
                    "2 for Bob, 3 for Carol, or 0 to cancel.")
    assert action == _call(page) + "?menu=reassign&to=s:primary&to=u:bob&to=u:carol"
    assert unanswered == "Nothing was changed. Goodbye."
    assert phone_web.audit() == []


def test_a_key_on_the_reassign_list_reassigns_and_the_engine_pages_that_person(
        phone_web: Web):
    page = _alices_text(phone_web)
    listed, _said_list, _ = _asked(_press(phone_web, _call(page), "6"))

    said = _said(_press(phone_web, listed, "3"))
    phone_web.runtime.engine.run_due()

    assert said == (f"Alert {page.alert_id} reassigned to person carol; paging from step 1. "
                    "Goodbye.")
    detail = phone_web.alert(page.alert_id)
    assert (detail["status"], detail["policy"]) == ("triggered", "responders: user carol")
    entry = _entry(phone_web, page.alert_id, "reassigned")
    assert (entry["actor"], entry["surface"]) == ("alice", "phone")
    assert _audit(phone_web) == [("alert.reassigned", "alice", "phone", page.alert_id)]
    assert [(p.user_id, p.alert_id) for p in phone_web.pages("webhook")] == [
        ("carol", page.alert_id)]


def test_7_lists_schedules_and_the_other_policies_and_adds_the_one_pressed(phone_web: Web):
    _reload(phone_web, CONFIG.replace("\nroutes:", "\n" + DATABASE_POLICY + "routes:"))
    page = _alices_text(phone_web)

    listed, said, _ = _asked(_press(phone_web, _call(page), "7"))
    added = _said(_press(phone_web, listed, "2"))
    phone_web.runtime.engine.run_due()

    assert said == (f"To add a responder to alert {page.alert_id}, press 1 for schedule "
                    "primary, 2 for escalation policy database, or 0 to cancel.")
    assert added == (f"Added escalation policy database as a responder to alert "
                     f"{page.alert_id}. Goodbye.")
    assert _entry(phone_web, page.alert_id, "responder_added")["surface"] == "phone"
    assert _audit(phone_web) == [("alert.responder_added", "alice", "phone", page.alert_id)]
    assert [p.user_id for p in phone_web.pages("webhook")] == ["carol"]
    assert phone_web.alert(page.alert_id)["policy"] == "critical"


def test_7_on_an_acknowledged_alert_offers_to_unacknowledge_first(phone_web: Web):
    page = _alices_text(phone_web)
    undo_at, _offered, _ = _asked(_press(phone_web, _call(page), "1"))

    _action, said, _ = _asked(_press(phone_web, undo_at, "7"))

    assert said == (f"Alert {page.alert_id} is acknowledged, so an added responder would not "
                    "be paged. Press 5 to unacknowledge it, or hang up.")
    assert len(phone_web.audit()) == 1


def test_6_on_a_resolved_alert_reads_no_list(phone_web: Web):
    page = _alices_text(phone_web)
    post_signed(phone_web, "/twilio/sms", {"From": "+15550111", "Body": f"RES {page.alert_id}"})

    said = _said(_press(phone_web, _call(page), "6"))

    assert said == (f"Alert {page.alert_id} is already resolved by bob at "
                    "2026-03-02T03:00:00Z; nothing was changed. Goodbye.")


def test_a_list_changed_in_the_url_is_refused(phone_web: Web):
    page = _alices_text(phone_web)
    listed, _said_list, _ = _asked(_press(phone_web, _call(page), "6"))
    form = {"Digits": "2", "CallSid": "CA1"}
    signed = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + listed, form)
    tampered = listed.replace("to=u:bob", "to=u:alice")
    assert tampered != listed

    response = phone_web.client.post(tampered, data=form,
                                     headers={"X-Twilio-Signature": signed})

    assert response.status_code == 403
    assert phone_web.alert(page.alert_id)["policy"] == "critical"
    assert phone_web.audit() == []


def test_a_target_gone_from_the_config_before_its_key_changes_nothing(phone_web: Web):
    _reload(phone_web, CONFIG.replace("\nservices:", "\n" + DAVE + "services:"))
    page = _alices_text(phone_web)
    listed, said, _ = _asked(_press(phone_web, _call(page), "6"))
    assert said.endswith("3 for Carol, 4 for Dave, or 0 to cancel.")
    _reload(phone_web, CONFIG)

    answer = _said(_press(phone_web, listed, "4"))

    assert answer == "dave is no longer in Tocsin's configuration. Nothing was changed. Goodbye."
    assert phone_web.alert(page.alert_id)["policy"] == "critical"
    assert phone_web.audit() == []


def test_a_repeated_key_on_the_list_reassigns_once(phone_web: Web):
    page = _alices_text(phone_web)
    listed, _said_list, _ = _asked(_press(phone_web, _call(page), "6"))

    first = _press(phone_web, listed, "2")
    again = _press(phone_web, listed, "2")
    phone_web.runtime.engine.run_due()

    assert again.text == first.text
    assert _audit(phone_web) == [("alert.reassigned", "alice", "phone", page.alert_id)]
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice", "bob"]


@pytest.mark.parametrize(("digits", "said"), [
    ("0", "Nothing was changed. Goodbye."),
    ("", "Nothing was changed. Goodbye."),
    ("8", "That key names no one. Nothing was changed. Goodbye."),
])
def test_0_no_key_or_a_key_past_the_list_changes_nothing(phone_web: Web, digits: str,
                                                         said: str):
    page = _alices_text(phone_web)
    listed, _said_list, _ = _asked(_press(phone_web, _call(page), "6"))

    assert _said(_press(phone_web, listed, digits)) == said
    assert phone_web.alert(page.alert_id)["policy"] == "critical"
    assert phone_web.audit() == []


def test_the_lists_stay_within_nine_keys(phone_web: Web):
    people = "".join(f'  - {{id: p{n}, name: Person {n}, contacts: {{webhook: '
                     f'"http://hooks.test/p{n}"}}}}\n' for n in range(12))
    _reload(phone_web, CONFIG.replace("\nservices:", "\n" + people + "services:"))
    page = _alices_text(phone_web)

    action, said, _ = _asked(_press(phone_web, _call(page), "6"))

    assert said.startswith(f"To reassign alert {page.alert_id}, press 1 for schedule primary, "
                           "2 for Bob, 3 for Carol, 4 for Person 0,")
    assert said.endswith("8 for Person 2, 9 for Person 3, or 0 to cancel.")
    assert action.count("&to=") == 9
