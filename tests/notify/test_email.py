"""E-mail pages against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.pages import make_page
from tests.support.smtp_server import (
    SmtpServer,
    client_context,
    make_certificate,
    refusing_port,
)
from tocsin.clock import FakeClock
from tocsin.config.model import EmailProvider, Notifications
from tocsin.notify.base import Notice, NoticeNotifier
from tocsin.notify.email import EmailNotifier
from tocsin.notify.registry import build_notifiers

ALICE = "alice@example.com"
PASSWORD = "smtp-pw-5f4e3d2c"


def provider(port: int, **changes: object) -> EmailProvider:
    base = EmailProvider(host="127.0.0.1", port=port, security="none",
                         sender="Tocsin <pager@example.com>", timeout_seconds=5)
    return replace(base, **changes)  # type: ignore[arg-type]


def plain(message: EmailMessage) -> str:
    """The plain-text part, with the wire's CRLF line ends read as newlines."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(unknown=("nobody@example.com",)) as server:
        yield server


@pytest.fixture
def notifier(smtp: SmtpServer, fake_clock: FakeClock) -> EmailNotifier:
    return EmailNotifier(provider(smtp.port), fake_clock)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


def test_a_page_arrives_with_its_facts_in_text_and_html(
    smtp: SmtpServer, notifier: EmailNotifier, fake_clock: FakeClock
) -> None:
    fake_clock.advance(minutes=12)  # the page was triggered at the clock's start
    outcome = notifier.send(make_page(address=ALICE))

    assert outcome.ok and not outcome.retryable
    [mail] = smtp.messages
    assert (mail.mail_from, mail.rcpt_tos) == ("pager@example.com", [ALICE])
    message = mail.message
    assert message["Subject"] == "[Tocsin] critical: Payment API 500s"
    assert message["From"] == "Tocsin <pager@example.com>"
    assert message["To"] == f"Alice <{ALICE}>"
    assert message["Message-ID"] == "<delivery-7-0c5d@example.com>" == outcome.provider_id
    assert message["Auto-Submitted"] == "auto-generated"
    text = plain(message)
    for line in ("Severity:  critical", "Service:   payment",
                 "Firing:    for 12 minutes, since 2026-03-02 09:30 UTC",
                 "Alert:     #12 (triggered), escalation step 1",
                 "Error rate above 5% for 5 minutes",
                 "Runbook:   https://wiki.example.com/runbooks/payment-500s",
                 "Source:    https://grafana.example.com/d/payments?orgId=1",
                 "Acknowledge: http://127.0.0.1:8080/a/12/sig-abc123"):
        assert line in text
    html = message.get_body(("html",)).get_content()
    assert '<a href="http://127.0.0.1:8080/a/12/sig-abc123">Acknowledge</a>' in html
    assert '<a href="https://grafana.example.com/d/payments?orgId=1">Source</a>' in html


def test_a_non_ascii_title_and_name_arrive_intact_over_seven_bit_smtp(
    smtp: SmtpServer, notifier: EmailNotifier
) -> None:
    title = "Zahlung fehlgeschlagen \u2013 支付失败 🔥"
    notifier.send(make_page(address=ALICE, title=title, user_name="Ålice Ørsted"))

    [mail] = smtp.messages
    assert mail.raw.isascii()  # encoded words and quoted-printable/base64: any relay passes it
    assert mail.message["Subject"] == f"[Tocsin] critical: {title}"
    assert mail.message["To"].addresses[0].display_name == "Ålice Ørsted"
    assert plain(mail.message).startswith(title + "\n")


def test_html_shows_what_senders_wrote_as_text_never_as_markup(
    smtp: SmtpServer, notifier: EmailNotifier
) -> None:
    notifier.send(make_page(
        address=ALICE, title="<script>alert(1)</script>",
        description='<img src=x onerror="steal()"> & more',
        source_url="javascript:alert(document.cookie)",
    ))

    html = smtp.messages[0].message.get_body(("html",)).get_content()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;steal()&quot;&gt; &amp; more" in html
    assert 'href="javascript:' not in html  # shown as text, not a link
    assert "Source: javascript:alert(document.cookie)" in html


def test_a_title_with_line_breaks_cannot_add_headers_or_recipients(
    smtp: SmtpServer, notifier: EmailNotifier
) -> None:
    notifier.send(make_page(address=ALICE, title="disk full\r\nBcc: mallory@evil.test\r\n\r\nhi"))

    [mail] = smtp.messages
    assert mail.rcpt_tos == [ALICE]
    assert mail.message["Bcc"] is None
    assert mail.message["Subject"] == "[Tocsin] critical: disk full Bcc: mallory@evil.test hi"


def test_a_451_is_retried_and_the_retry_is_the_same_message(
    smtp: SmtpServer, notifier: EmailNotifier, fake_clock: FakeClock
) -> None:
    smtp.answer_data_with("451 4.3.2 Please try again later")
    page = make_page(address=ALICE)

    first = notifier.send(page)
    fake_clock.advance(seconds=30)
    second = notifier.send(page)

    assert not first.ok and first.retryable
    assert first.detail == (f"SMTP server 127.0.0.1:{smtp.port} answered 451: "
                            "4.3.2 Please try again later")
    assert second.ok
    assert smtp.data_attempts == 2
    [mail] = smtp.messages
    assert mail.message["Message-ID"] == "<delivery-7-0c5d@example.com>"
    # A second page (a new delivery) is a new message.
    notifier.send(replace(page, idempotency_key="tocsin-9a8b"))
    assert smtp.messages[1].message["Message-ID"] == "<tocsin-9a8b@example.com>"


def test_an_unknown_user_550_is_not_retried(smtp: SmtpServer, notifier: EmailNotifier) -> None:
    outcome = notifier.send(make_page(address="nobody@example.com"))

    assert not outcome.ok and not outcome.retryable
    assert "answered 550: 5.1.1 <nobody@example.com>: Recipient address rejected" in outcome.detail
    assert smtp.messages == []


def test_a_message_refused_at_data_with_5xx_is_not_retried(
    smtp: SmtpServer, notifier: EmailNotifier
) -> None:
    smtp.answer_data_with("554 5.7.1 Message rejected as spam")
    outcome = notifier.send(make_page(address=ALICE))
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail.endswith("answered 554: 5.7.1 Message rejected as spam")


def test_a_refused_connection_is_retried(fake_clock: FakeClock) -> None:
    with refusing_port() as port:
        outcome = EmailNotifier(provider(port), fake_clock).send(make_page(address=ALICE))
    assert not outcome.ok and outcome.retryable
    assert outcome.detail == f"SMTP server 127.0.0.1:{port} refused the connection"


def test_a_server_that_never_answers_times_out_and_is_retried(fake_clock: FakeClock) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        notifier = EmailNotifier(provider(port, timeout_seconds=0.3), fake_clock)
        outcome = notifier.send(make_page(address=ALICE))
    assert not outcome.ok and outcome.retryable
    assert outcome.detail == f"SMTP server 127.0.0.1:{port} timed out"


def test_a_contact_that_is_not_an_address_is_not_sent(
    smtp: SmtpServer, notifier: EmailNotifier
) -> None:
    outcome = notifier.send(make_page(address="alice@example.com\r\nRCPT TO:<x@evil.test>"))
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail == "the contact is not an e-mail address"
    assert smtp.data_attempts == 0


def test_starttls_then_login_delivers_over_an_encrypted_connection(
    certificate: tuple[Path, Path], fake_clock: FakeClock
) -> None:
    with SmtpServer(tls=certificate, login=("tocsin", PASSWORD)) as server:
        settings = provider(server.port, security="starttls", username="tocsin",
                            password=PASSWORD)
        notifier = EmailNotifier(settings, fake_clock, tls=client_context(certificate[0]))
        outcome = notifier.send(make_page(address=ALICE))
    assert outcome.ok, outcome.detail
    assert server.logins == [("tocsin", True)]
    assert [mail.tls for mail in server.messages] == [True]


def test_implicit_tls_delivers(certificate: tuple[Path, Path], fake_clock: FakeClock) -> None:
    with SmtpServer(tls=certificate, implicit_tls=True) as server:
        notifier = EmailNotifier(provider(server.port, security="tls"), fake_clock,
                                 tls=client_context(certificate[0]))
        outcome = notifier.send(make_page(address=ALICE))
    assert outcome.ok, outcome.detail
    assert [mail.tls for mail in server.messages] == [True]


def test_a_wrong_password_is_not_retried_and_never_shown(
    certificate: tuple[Path, Path], fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-pw-0a9b8c7d"
    with SmtpServer(tls=certificate, login=("tocsin", PASSWORD)) as server:
        settings = provider(server.port, security="starttls", username="tocsin", password=wrong)
        notifier = EmailNotifier(settings, fake_clock, tls=client_context(certificate[0]))
        outcome = notifier.send(make_page(address=ALICE))
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail == f"SMTP server 127.0.0.1:{server.port} refused the login (535)"
    assert server.messages == []
    assert wrong not in caplog.text and wrong not in outcome.detail


def test_starttls_demanded_of_a_server_without_it_is_not_retried(
    smtp: SmtpServer, fake_clock: FakeClock
) -> None:
    notifier = EmailNotifier(provider(smtp.port, security="starttls"), fake_clock)
    outcome = notifier.send(make_page(address=ALICE))
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail.startswith("the SMTP server does not offer STARTTLS; set security: tls")
    assert smtp.messages == []


def test_a_certificate_the_system_does_not_trust_is_not_retried(
    certificate: tuple[Path, Path], fake_clock: FakeClock
) -> None:
    with SmtpServer(tls=certificate) as server:
        notifier = EmailNotifier(provider(server.port, security="starttls"), fake_clock)
        outcome = notifier.send(make_page(address=ALICE))
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail.startswith(f"the certificate of SMTP server 127.0.0.1:{server.port} "
                                     "did not verify")
    assert server.messages == []


def test_a_notice_is_one_plain_text_message(smtp: SmtpServer, notifier: EmailNotifier) -> None:
    text = "Your on-call shift for primary starts in 1 hour (Mon 02 Mar 19:00 Europe/Berlin)"
    notice = Notice(notice_id=3, idempotency_key="handoff-3", kind="handoff.upcoming",
                    user_id="alice", user_name="Alice", address=ALICE, text=text)

    assert isinstance(notifier, NoticeNotifier)
    outcome = notifier.send_notice(notice)

    assert outcome.ok
    [mail] = smtp.messages
    assert mail.message["Subject"] == f"[Tocsin] {text}"
    assert mail.message["Message-ID"] == "<handoff-3@example.com>"
    assert not mail.message.is_multipart()
    assert plain(mail.message).startswith(text + "\n")


def test_the_firing_time_reads_in_hours_and_days(
    smtp: SmtpServer, notifier: EmailNotifier, fake_clock: FakeClock
) -> None:
    fake_clock.advance(minutes=3 * 60 + 5)
    notifier.send(make_page(address=ALICE))
    fake_clock.advance(minutes=2 * 24 * 60)
    notifier.send(make_page(address=ALICE, idempotency_key="later"))

    texts = [plain(mail.message) for mail in smtp.messages]
    assert "Firing:    for 3 h 5 min, since" in texts[0]
    assert "Firing:    for 2 d 3 h, since" in texts[1]


def test_the_registry_sends_email_contacts_through_smtp(fake_clock: FakeClock) -> None:
    notifications = Notifications(email=provider(25))
    notifiers = build_notifiers(notifications, fake_clock)
    assert isinstance(notifiers["email"], EmailNotifier)
    assert notifications.real_channels == ("email",)


def test_log_lines_name_the_delivery_and_never_the_password(
    smtp: SmtpServer, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tocsin.notify.email")
    smtp.answer_data_with(f"451 try later {PASSWORD}")  # a server quoting it back
    # No username, so no login: the password is only there to be masked.
    notifier = EmailNotifier(provider(smtp.port, password=PASSWORD), fake_clock)
    outcome = notifier.send(make_page(address=ALICE))

    [record] = [r for r in caplog.records if r.name == "tocsin.notify.email"]
    assert record.getMessage() == "notify.email.failed"
    assert record.tocsin_fields["delivery_id"] == 7  # type: ignore[attr-defined]
    assert PASSWORD not in outcome.detail and PASSWORD not in caplog.text
    assert outcome.retryable


def test_a_body_line_starting_from_arrives_as_written(
    smtp: SmtpServer, notifier: EmailNotifier
) -> None:
    text = "From 2026-03-02 04:00 UTC your shift for primary starts"
    notice = Notice(notice_id=4, idempotency_key="handoff-4", kind="handoff.upcoming",
                    user_id="alice", user_name="Alice", address=ALICE, text=text)

    assert notifier.send_notice(notice).ok

    [mail] = smtp.messages
    assert plain(mail.message).startswith(text + "\n")
    assert b">From" not in mail.raw
