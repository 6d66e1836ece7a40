"""Pages worded by `notifications.templates`, channel by channel, and what happens when a
template fails on a page."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio, segments
from tests.support.fixtures import CLOCK_START, SLACK_TOKEN
from tests.support.pages import make_page
from tocsin.clock import FakeClock
from tocsin.config.model import EmailProvider, MessageTemplates, SlackProvider, TwilioProvider
from tocsin.config.templates import fired_for
from tocsin.logs import record_fields
from tocsin.notify.base import Page
from tocsin.notify.email import EmailNotifier
from tocsin.notify.slack import SlackNotifier, escape
from tocsin.notify.sms_text import page_sms
from tocsin.notify.templates import PageTemplate, page_template, sms_body, spoken
from tocsin.notify.twilio import TwilioApi, TwilioSmsNotifier, TwilioVoiceNotifier, call_twiml

ALICE = "+15550100100"
ACK_URL = "https://tocsin.example.com/a/eyJhIjoxMiwidSI6ImFsaWNlIn0.aBcDeF.Zx9-Yw8_Vu7Ts6Rq5Po"


def template(source: str, clock: FakeClock, name: str = "sms") -> PageTemplate:
    return PageTemplate(name, source, clock)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def twilio_api(twilio: FakeTwilio) -> TwilioApi:
    return TwilioApi(TwilioProvider(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                                    sender=FROM_NUMBER, api_url=twilio.api_url,
                                    timeout_seconds=2))


# Slack: values escaped for mrkdwn, the template's own text left as written.


def slack_post(fake_slack: FakeSlack, source: str, fake_clock: FakeClock,
               page: Page) -> dict[str, Any]:
    provider = SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url)
    slack_text = PageTemplate("slack", source, fake_clock, escape)
    assert SlackNotifier(provider, template=slack_text).send(page).ok
    [call] = fake_slack.calls_to("chat.postMessage")
    return call.params


def test_slack_escapes_the_values_but_not_the_templates_own_markup(
    fake_slack: FakeSlack, fake_clock: FakeClock,
) -> None:
    page = make_page(title="Disk <full> & slow", labels={"team": "<!channel>"})
    params = slack_post(fake_slack, "<!here> *{{ alert.title }}* ({{ alert.labels.team }})",
                        fake_clock, page)

    expected = "<!here> *Disk &lt;full&gt; &amp; slow* (&lt;!channel&gt;)"
    assert params["text"] == expected
    sections = [b for b in params["blocks"] if b["type"] == "section" and "text" in b]
    assert [s["text"]["text"] for s in sections] == [expected]  # in place of the description


def test_slack_keeps_its_header_facts_links_and_buttons_around_the_template(
    fake_slack: FakeSlack, fake_clock: FakeClock,
) -> None:
    params = slack_post(fake_slack, "{{ alert.title }} for {{ fired_for }}", fake_clock,
                        make_page(triggered_at=CLOCK_START - timedelta(minutes=12)))

    kinds = [block["type"] for block in params["blocks"]]
    assert kinds == ["header", "section", "section", "context", "actions"]
    assert params["blocks"][0]["text"]["text"] == "Payment API 500s"
    assert params["text"] == "Payment API 500s for 12 min"
    assert "Error rate above 5%" not in str(params["blocks"])  # the description gave way


# SMS: plain text, one segment whatever the template prints.


def test_an_sms_template_is_sent_as_written(twilio: FakeTwilio, fake_clock: FakeClock) -> None:
    source = "{{ alert.severity | upper }} {{ alert.title }} - reply {{ reply.ack }} & go"
    notifier = TwilioSmsNotifier(twilio_api(twilio), template(source, fake_clock))

    assert notifier.send(make_page(address=ALICE, ack_url=ACK_URL)).ok

    [text] = twilio.accepted("Messages")
    assert text.form["Body"] == "CRITICAL Payment API 500s - reply ACK 12 & go"


def test_a_long_sms_is_cut_to_one_gsm7_segment(fake_clock: FakeClock) -> None:
    source = "{{ alert.title }} {{ alert.description }} {{ alert.source_url }} {{ ack_url }}"
    body = sms_body(template(source, fake_clock), make_page(ack_url=ACK_URL))

    assert body is not None
    assert segments(body) == 1
    assert len(body) == 160
    assert body.startswith("Payment API 500s Error rate above 5% for 5 minutes https://")
    assert body.endswith("...")


def test_a_non_latin_sms_is_cut_to_70_characters(fake_clock: FakeClock) -> None:
    title = "ระบบชำระเงินล่ม ลูกค้าชำระเงินไม่ได้ทั้งหมด ตรวจสอบด่วน 🔥"
    body = sms_body(template("{{ alert.title }} {{ reply.ack }} {{ ack_url }}", fake_clock),
                    make_page(title=title, ack_url=ACK_URL))

    assert body is not None
    assert segments(body) == 1
    assert body.startswith("ระบบชำระเงินล่ม ลูกค้า")
    assert body.endswith("…")  # "..." would cost three of the 70


def test_a_short_non_latin_sms_is_sent_whole(fake_clock: FakeClock) -> None:
    body = sms_body(template("แจ้งเตือน {{ alert.title }} ตอบ {{ reply.ack }}", fake_clock),
                    make_page())
    assert body == "แจ้งเตือน Payment API 500s ตอบ ACK 12"


# Voice: one sentence, still escaped into TwiML and followed by the keypad prompt.


def test_a_voice_template_replaces_the_sentence_and_keeps_the_keypad(
    twilio: FakeTwilio, fake_clock: FakeClock,
) -> None:
    source = "Hello {{ user.name }}.\nThe {{ alert.service }} service <is down>, {{ fired_for }}."
    notifier = TwilioVoiceNotifier(twilio_api(twilio), template(source, fake_clock, "voice"))
    page = make_page(address=ALICE, ack_url=ACK_URL,
                     triggered_at=CLOCK_START - timedelta(hours=2, minutes=5))

    assert notifier.send(page).ok

    [call] = twilio.accepted("Calls")
    root = ElementTree.fromstring(call.form["Twiml"])  # noqa: S314 - our own request
    gather = root.find("Gather")
    assert gather is not None
    said = gather.findtext("Say") or ""
    # The keypad prompt is whatever follows the built-in sentence in a call without a template.
    built_in = ElementTree.fromstring(call_twiml(page)).findtext("Gather/Say") or ""  # noqa: S314
    prompt = built_in.removeprefix("Tocsin alert: Payment API 500s, severity critical. ")
    assert prompt != built_in
    assert said == f"Hello Alice. The payment service <is down>, 2 h 5 min. {prompt}"


def test_without_a_voice_template_the_call_reads_the_built_in_sentence(
    fake_clock: FakeClock,
) -> None:
    page = make_page(ack_url=ACK_URL)
    assert spoken(None, page) is None
    assert call_twiml(page, spoken(None, page)) == call_twiml(page)
    assert "Tocsin alert: Payment API 500s, severity critical." in call_twiml(page)


# E-mail: a one-line subject, the text body, and an HTML part made from the same text.


def email_page(source_subject: str | None, source_body: str | None,
               fake_clock: FakeClock, page: Page) -> EmailMessage:
    templates = MessageTemplates(email_subject=source_subject, email_body=source_body)
    notifier = EmailNotifier(
        EmailProvider(host="127.0.0.1", sender="Tocsin <pager@tocsin.test>"), fake_clock,
        subject_template=page_template(templates, "email_subject", fake_clock),
        body_template=page_template(templates, "email_body", fake_clock))
    return notifier.build_page(replace(page, address="alice@example.com"))


def test_an_email_subject_template_loses_its_line_breaks(fake_clock: FakeClock) -> None:
    message = email_page("[{{ alert.service }}]\n{{ alert.title }}\r\nBcc: evil@example.com",
                         None, fake_clock, make_page(title="Payment API 500s"))

    assert message["Subject"] == "[payment] Payment API 500s Bcc: evil@example.com"
    assert message["Bcc"] is None
    body = message.get_body(("plain",))
    assert body is not None
    assert "Severity:  critical" in body.get_content()  # the body stays built in


def test_an_email_body_template_is_the_text_and_the_html_part(fake_clock: FakeClock) -> None:
    source = ("{{ alert.title }} on {{ alert.service }}\n\n"
              "{% for name, value in alert.labels | dictsort %}\n"
              "{{ name }}={{ value }}\n"
              "{% endfor %}\n"
              "Ack: {{ ack_url }}.\n")
    page = make_page(title="<b>Payment</b> down", ack_url=ACK_URL)

    message = email_page(None, source, fake_clock, page)

    assert message["Subject"] == "[Tocsin] critical: <b>Payment</b> down"  # built in
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content() == ("<b>Payment</b> down on payment\n\nenv=prod\n"
                                  f"region=eu-west-1\nAck: {ACK_URL}.\n")
    markup = html.get_content()
    assert "&lt;b&gt;Payment&lt;/b&gt; down on payment" in markup
    assert "<b>" not in markup
    assert f'Ack: <a href="{ACK_URL}">{ACK_URL}</a>.' in markup


# A template that fails on a page never costs the page.


def failures(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [record_fields(r) for r in caplog.records if r.getMessage() == "notify.template_failed"]


@pytest.mark.parametrize("source", [
    "{{ alert.labels.team }}: {{ alert.title }}",  # a label this alert does not have
    "{{ alert.title | int / 0 }}",  # a filter and an operation that raise
    "{{ alert.labels.clear() }}",  # the sandbox refuses to change the page
    "{% if alert.status == 'resolved' %}over{% endif %}",  # prints nothing
])
def test_a_failing_sms_template_sends_the_built_in_text_and_warns(
    source: str, twilio: FakeTwilio, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture,
) -> None:
    page = make_page(address=ALICE, ack_url=ACK_URL)
    notifier = TwilioSmsNotifier(twilio_api(twilio), template(source, fake_clock))

    with caplog.at_level(logging.WARNING, logger="tocsin.notify.templates"):
        assert notifier.send(page).ok

    [text] = twilio.accepted("Messages")
    assert text.form["Body"] == page_sms(page)
    [failure] = failures(caplog)
    assert failure["alert_id"] == 12
    assert failure["template"] == "sms"
    assert page.labels == {"env": "prod", "region": "eu-west-1"}


def test_a_failing_email_template_mails_the_built_in_page(
    fake_clock: FakeClock, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="tocsin.notify.templates"):
        message = email_page("{{ alert.labels.team }}", "{{ alert.labels.team }}", fake_clock,
                             make_page())

    assert message["Subject"] == "[Tocsin] critical: Payment API 500s"
    assert [f["template"] for f in failures(caplog)] == ["email_subject", "email_body"]
    assert all(f["error"] == "UndefinedError" for f in failures(caplog))


def test_a_failing_slack_template_posts_the_built_in_message(
    fake_slack: FakeSlack, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="tocsin.notify.templates"):
        params = slack_post(fake_slack, "{{ alert.labels.team.name }}", fake_clock, make_page())

    assert params["text"] == "Page: Payment API 500s [critical] payment (alert #12, step 1)"
    assert [f["template"] for f in failures(caplog)] == ["slack"]


# What the variables hold.


def test_a_missing_value_prints_as_nothing_not_none(fake_clock: FakeClock) -> None:
    body = sms_body(template("[{{ alert.severity }}] {{ alert.title }}", fake_clock),
                    make_page(severity=None))
    assert body == "[] Payment API 500s"


def test_a_missing_value_is_empty_through_filters_and_false_in_an_if(
    fake_clock: FakeClock,
) -> None:
    page = make_page(severity=None, service=None, description=None)
    source = ("{{ alert.severity | upper }}|{{ alert.service | title }}|"
              "{{ alert.description | default('no description', true) }}|"
              "{% if alert.severity %}sev{% else %}no severity{% endif %}")
    assert sms_body(template(source, fake_clock), page) == "||no description|no severity"


@pytest.mark.parametrize("source", [
    "{{ alert.title * alert.labels.times | int }}",  # 100000 repeats
    "{{ alert.title | center(alert.labels.times | int * 10000) }}",
    "{% for i in range(alert.labels.times | int) %}.{% endfor %}",
])
def test_a_template_past_its_budget_on_a_page_sends_the_built_in_text(
    source: str, twilio: FakeTwilio, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture,
) -> None:
    page = make_page(address=ALICE, labels={"times": "100000"})
    notifier = TwilioSmsNotifier(twilio_api(twilio), template(source, fake_clock))

    with caplog.at_level(logging.WARNING, logger="tocsin.notify.templates"):
        assert notifier.send(page).ok

    [text] = twilio.accepted("Messages")
    assert text.form["Body"] == page_sms(page)
    assert [f["error"] for f in failures(caplog)] == ["TemplateBudgetError"]


def test_each_render_has_a_budget_of_its_own(fake_clock: FakeClock) -> None:
    # 6,000 iterations a page: twice would pass the limit if the budget carried over.
    sms_template = template("{% for i in range(6000) %}{% endfor %}{{ alert.title }}",
                            fake_clock)
    assert sms_body(sms_template, make_page()) == "Payment API 500s"
    assert sms_body(sms_template, make_page()) == "Payment API 500s"


@pytest.mark.parametrize(("elapsed", "said"), [
    (timedelta(seconds=59), "under 1 min"),
    (timedelta(minutes=12, seconds=30), "12 min"),
    (timedelta(hours=2, minutes=5), "2 h 5 min"),
    (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
    (timedelta(minutes=-5), "under 1 min"),  # a sender's clock ahead of ours
])
def test_fired_for_is_short_and_human(elapsed: timedelta, said: str) -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert fired_for(now - elapsed, now) == said


def test_the_time_and_the_step_reach_the_template(fake_clock: FakeClock) -> None:
    fake_clock.advance(minutes=90)
    source = "#{{ alert.id }} {{ alert.status }} since {{ alert.triggered_at }} " \
             "({{ fired_for }}), step {{ step }}, {{ user.id }}, {{ reply.resolve }}"
    body = sms_body(template(source, fake_clock), make_page(step=2, status="acknowledged"))
    assert body == ("#12 acknowledged since 2026-03-02T09:30:00Z (1 h 30 min), step 2, alice, "
                    "RES 12")


def test_a_label_the_alert_may_lack_can_have_a_default(fake_clock: FakeClock) -> None:
    source = "{{ alert.labels.team | default('no team') }} / {{ alert.labels.get('env', '-') }}"
    assert sms_body(template(source, fake_clock), make_page()) == "no team / prod"
    assert sms_body(template(source, fake_clock),
                    make_page(labels={"team": "payments"})) == "payments / -"
