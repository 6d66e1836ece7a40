"""Answering a page by text reply and by keypad: every verb, as Twilio would post it.

The fake clock reads Monday 2026-03-02 03:00 UTC. Alice holds step 1 (texts
only); bob is step 2 (a text at once, a call 3 minutes later). Requests are
signed with the `twilio` package's RequestValidator (see post_signed).
"""

from __future__ import annotations

import html
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.web.conftest import Web
from tests.web.test_twilio_inbound import ALICE_SMS, phone_web, post_signed
from tocsin.notify import store as outbox
from tocsin.notify.sms_text import fits_one_segment
from tocsin.notify.twilio import voice_ack_url

__all__ = ["phone_web"]  # the fixture, shared with test_twilio_inbound

BOB_SMS = "+15550111"
MAX_MINUTES = 527040


def _text(web: Web, body: str, sender: str = ALICE_SMS) -> str:
    response = post_signed(web, "/twilio/sms", {"From": sender, "To": "+15550199", "Body": body})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    said = html.unescape(response.text.split("<Message>", 1)[1].split("</Message>", 1)[0])
    assert fits_one_segment(said), said
    return said


def _press(web: Web, page: Any, digits: str, *, again: bool = False) -> httpx.Response:
    url = voice_ack_url(page.ack_url)
    assert url is not None
    path = url.removeprefix("http://tocsin.test") + ("?again=1" if again else "")
    response = post_signed(web, path, {"Digits": digits, "CallSid": "CA1"})
    assert response.status_code == 200
    return response


def _alices_text(web: Web, fingerprint: str = "fp-payment") -> Any:
    alert_id = web.fire(fingerprint)
    page = web.pages("sms")[-1]
    assert (page.user_id, page.alert_id) == ("alice", alert_id)
    return page


def _audit(web: Web) -> list[tuple[str, str, str, int]]:
    return [(row.action, row.actor, row.surface, int(row.object_id))
            for row in web.audit()]


def _deliveries(web: Web, alert_id: int) -> list[tuple[int, str, str]]:
    with web.runtime.sessions() as session:
        rows = session.scalars(select(outbox.Delivery).where(
            outbox.Delivery.alert_id == alert_id, outbox.Delivery.channel.in_(("sms", "phone")))
            .order_by(outbox.Delivery.id))
        return [(row.step, row.user_id, row.channel) for row in rows]


def test_snooze_by_text_acknowledges_until_the_time_it_says(phone_web: Web):
    page = _alices_text(phone_web)
    alert_id = page.alert_id

    said = _text(phone_web, f"snooze #{alert_id} 15.")

    assert said == f"Tocsin: Alert {alert_id} snoozed until 03:15 UTC."
    detail = phone_web.alert(alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "alice")
    snoozed = next(e for e in detail["timeline"] if e["kind"] == "snoozed")
    assert (snoozed["actor"], snoozed["surface"]) == ("alice", "sms")
    assert _audit(phone_web) == [("alert.acknowledge", "alice", "sms", alert_id),
                                 ("alert.snoozed", "alice", "sms", alert_id)]


def test_a_snooze_triggers_again_when_the_clock_passes_it(phone_web: Web):
    page = _alices_text(phone_web)
    _text(phone_web, f"SNOOZE {page.alert_id} 15")

    phone_web.clock.advance(minutes=14)
    phone_web.runtime.engine.run_due()
    assert phone_web.alert(page.alert_id)["status"] == "acknowledged"
    assert len(phone_web.pages("sms")) == 1

    phone_web.clock.advance(minutes=2)
    phone_web.runtime.engine.run_due()

    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert [(p.user_id, p.alert_id) for p in phone_web.pages("sms")] == [
        ("alice", page.alert_id), ("alice", page.alert_id)]


def test_snooze_without_minutes_means_thirty(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"Snooze {page.alert_id}")

    assert said == f"Tocsin: Alert {page.alert_id} snoozed until 03:30 UTC."


def test_a_snooze_past_midnight_names_the_day(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"SNOOZE {page.alert_id} 1440")

    assert said == f"Tocsin: Alert {page.alert_id} snoozed until Tue 3 Mar 03:00 UTC."


@pytest.mark.parametrize("minutes", ["0", "999999", "99999999", "-5", "2000000000000"])
def test_a_snooze_out_of_range_changes_nothing(phone_web: Web, minutes: str):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"SNOOZE {page.alert_id} {minutes}")

    assert said == (f"Tocsin: Snooze for 1 to {MAX_MINUTES} minutes, e.g. SNOOZE "
                    f"{page.alert_id} 30; nothing was changed.")
    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert phone_web.audit() == []


def test_escalate_by_text_pages_step_two_now(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"ESC {page.alert_id}")
    phone_web.runtime.engine.run_due()

    assert said == f"Tocsin: Alert {page.alert_id} escalated to step 2 of critical."
    assert _deliveries(phone_web, page.alert_id) == [
        (1, "alice", "sms"), (2, "bob", "sms"), (2, "bob", "phone")]
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice", "bob"]
    assert phone_web.pages("phone") == []  # bob's call waits its 3 minutes
    assert _audit(phone_web) == [("alert.escalated_now", "alice", "sms", page.alert_id)]
    assert "escalated_now" in phone_web.kinds(page.alert_id)


def test_escalating_past_the_last_step_says_so(phone_web: Web):
    page = _alices_text(phone_web)
    _text(phone_web, f"escalate {page.alert_id}")

    said = _text(phone_web, f"escalate {page.alert_id}")

    assert said == (f"Tocsin: Alert {page.alert_id} is at the last step of critical; nothing "
                    "to escalate to: reassign it or add a responder; nothing was changed.")
    assert len(phone_web.audit()) == 1


def test_unack_by_text_puts_the_alert_back_to_triggered(phone_web: Web):
    page = _alices_text(phone_web)
    _text(phone_web, f"ACK {page.alert_id}")

    said = _text(phone_web, f"unacknowledge #{page.alert_id}")

    assert said == (f"Tocsin: Alert {page.alert_id} unacknowledged; escalation resumes at "
                    "step 1.")
    detail = phone_web.alert(page.alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("triggered", None)
    assert _audit(phone_web) == [("alert.acknowledge", "alice", "sms", page.alert_id),
                                 ("alert.unacknowledged", "alice", "sms", page.alert_id)]
    phone_web.clock.advance(minutes=5)
    phone_web.runtime.engine.run_due()
    assert "bob" in [p.user_id for p in phone_web.pages("sms")]


def test_unack_of_a_triggered_alert_changes_nothing(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, f"UNACK {page.alert_id}")

    assert said == f"Tocsin: Alert {page.alert_id} is not acknowledged; nothing changed."
    assert phone_web.audit() == []


def test_a_second_ack_says_who_acknowledged_first(phone_web: Web):
    page = _alices_text(phone_web)
    _text(phone_web, f"ACK {page.alert_id}", sender=BOB_SMS)

    said = _text(phone_web, f"acknowledge {page.alert_id}.")

    assert said == f"Tocsin: Alert {page.alert_id} was already acknowledged by bob."
    assert len(phone_web.audit()) == 1


@pytest.mark.parametrize(("verb", "said"), [
    ("SNOOZE", "Cannot snooze alert {id}: it is"),
    ("ESC", "Cannot escalate alert {id}: it is"),
    ("UNACK", "Cannot unacknowledge alert {id}: it is"),
    ("ACK", "Alert {id} is"),
])
def test_every_verb_on_a_resolved_alert_answers_and_changes_nothing(phone_web: Web, verb: str,
                                                                    said: str):
    page = _alices_text(phone_web)
    _text(phone_web, f"RES {page.alert_id}", sender=BOB_SMS)
    before = phone_web.alert(page.alert_id)["timeline"]

    answered = _text(phone_web, f"{verb} {page.alert_id}")

    assert answered == ("Tocsin: " + said.format(id=page.alert_id) + " already resolved by bob "
                        "at 2026-03-02T03:00:00Z; nothing was changed.")
    assert phone_web.alert(page.alert_id)["timeline"] == before
    assert _audit(phone_web) == [("alert.resolve", "bob", "sms", page.alert_id)]


def test_res_of_a_resolved_alert_says_who_resolved_it(phone_web: Web):
    page = _alices_text(phone_web)
    _text(phone_web, f"RES {page.alert_id}", sender=BOB_SMS)

    said = _text(phone_web, f"resolve {page.alert_id}")

    assert said == (f"Tocsin: Alert {page.alert_id} was already resolved by bob at "
                    "2026-03-02T03:00:00Z; nothing changed.")
    assert _audit(phone_web) == [("alert.resolve", "bob", "sms", page.alert_id)]


def test_a_verb_alone_acts_on_the_one_open_alert_texted_to_the_sender(phone_web: Web):
    resolved = _alices_text(phone_web, "fp-first")
    _text(phone_web, f"RES {resolved.alert_id}")
    page = _alices_text(phone_web, "fp-second")

    said = _text(phone_web, "ack.")

    assert said == f"Tocsin: Alert {page.alert_id} acknowledged."
    assert phone_web.alert(page.alert_id)["acknowledged_by"] == "alice"


def test_a_verb_alone_with_two_open_alerts_asks_for_the_number(phone_web: Web):
    first = _alices_text(phone_web, "fp-first")
    phone_web.clock.advance(minutes=1)
    second = _alices_text(phone_web, "fp-second")

    said = _text(phone_web, "SNOOZE")

    assert said == ("Tocsin: 2 open alerts were texted to you; reply with the number, "
                    f"e.g. SNOOZE {second.alert_id}. Nothing was changed.")
    assert phone_web.alert(first.alert_id)["status"] == "triggered"
    assert phone_web.alert(second.alert_id)["status"] == "triggered"
    assert phone_web.audit() == []


def test_a_verb_alone_from_someone_never_texted_asks_for_the_number(phone_web: Web):
    page = _alices_text(phone_web)

    said = _text(phone_web, "ESC", sender=BOB_SMS)

    assert said == ("Tocsin: no open alert was texted to you; reply with the alert's number, "
                    "e.g. ESC 42. Nothing was changed.")
    assert phone_web.alert(page.alert_id)["status"] == "triggered"


@pytest.mark.parametrize("body", ["on it", "ACK 42 30", "thanks!", "STOP"])
def test_text_tocsin_cannot_read_gets_the_help_and_changes_nothing(phone_web: Web, body: str):
    page = _alices_text(phone_web)

    said = _text(phone_web, body)

    assert said.startswith("Tocsin: reply ACK 42, RES 42, SNOOZE 42 30 (minutes), ESC 42")
    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert phone_web.audit() == []


def test_a_reply_naming_an_alert_that_does_not_exist(phone_web: Web):
    _alices_text(phone_web)

    assert _text(phone_web, "SNOOZE 999 10") == "Tocsin: Alert 999 does not exist."
    assert phone_web.audit() == []


def test_keypad_2_resolves_as_the_person_called(phone_web: Web):
    page = _alices_text(phone_web)

    response = _press(phone_web, page, "2")

    assert f"<Say>Alert {page.alert_id} resolved. Goodbye.</Say>" in response.text
    assert phone_web.alert(page.alert_id)["resolved_by"] == "alice"
    assert _audit(phone_web) == [("alert.resolve", "alice", "phone", page.alert_id)]


def test_keypad_3_escalates_to_step_two_now(phone_web: Web):
    page = _alices_text(phone_web)

    response = _press(phone_web, page, "3")
    phone_web.runtime.engine.run_due()

    assert f"Alert {page.alert_id} escalated to step 2 of critical." in response.text
    assert (2, "bob", "sms") in _deliveries(phone_web, page.alert_id)
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice", "bob"]
    assert _audit(phone_web) == [("alert.escalated_now", "alice", "phone", page.alert_id)]


def test_an_unknown_key_asks_once_more_then_says_goodbye(phone_web: Web):
    page = _alices_text(phone_web)

    first = _press(phone_web, page, "9")
    second = _press(phone_web, page, "9", again=True)

    assert "<Gather" in first.text and "?again=1" in first.text
    assert "<Gather" not in second.text and "Goodbye." in second.text
    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert phone_web.audit() == []


def test_a_known_key_on_the_second_ask_still_acts(phone_web: Web):
    page = _alices_text(phone_web)
    _press(phone_web, page, "9")

    response = _press(phone_web, page, "1", again=True)

    assert f"Alert {page.alert_id} acknowledged." in response.text
    assert phone_web.alert(page.alert_id)["acknowledged_by"] == "alice"


def test_keypad_on_a_resolved_alert_changes_nothing(phone_web: Web):
    page = _alices_text(phone_web)
    _text(phone_web, f"RES {page.alert_id}", sender=BOB_SMS)

    response = _press(phone_web, page, "3")

    assert "is already resolved by bob" in response.text
    assert _audit(phone_web) == [("alert.resolve", "bob", "sms", page.alert_id)]
