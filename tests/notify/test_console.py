import io
import logging
from datetime import UTC, datetime

import pytest

from tests.support.pages import make_page
from tocsin.clock import FakeClock
from tocsin.config.model import Notifications, WebhookProvider
from tocsin.notify.console import ConsoleNotifier, printable
from tocsin.notify.registry import build_notifiers


def test_writes_one_readable_line_per_page() -> None:
    stream = io.StringIO()
    outcome = ConsoleNotifier(stream).send(make_page())
    assert outcome.ok
    assert stream.getvalue() == (
        'PAGE alert #12 [critical] payment: "Payment API 500s" -> Alice (step 1)'
        " ack: http://127.0.0.1:8080/a/12/sig-abc123\n"
    )


def test_leaves_out_what_the_page_does_not_have() -> None:
    stream = io.StringIO()
    page = make_page(severity=None, service=None, ack_url=None, step=2)
    ConsoleNotifier(stream).send(page)
    assert stream.getvalue() == 'PAGE alert #12 "Payment API 500s" -> Alice (step 2)\n'


def test_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleNotifier().send(make_page())
    assert capsys.readouterr().err.startswith("PAGE alert #12 ")


def test_outside_text_cannot_break_the_line_or_drive_the_terminal() -> None:
    stream = io.StringIO()
    ConsoleNotifier(stream).send(make_page(title="bad\nline \x1b[2Jcleared \u202eevil"))
    text = stream.getvalue()
    assert text.count("\n") == 1
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert '"bad\\x0aline \\x1b[2Jcleared \\u202eevil"' in text


def test_non_latin_text_and_emoji_are_shown_as_they_are() -> None:
    title = "Платёжный API: ошибки 500 🔥 支払い 👩‍💻"
    stream = io.StringIO()
    ConsoleNotifier(stream).send(make_page(title=title, user_name="Zoë Ōtsuka"))
    assert f'"{title}" -> Zoë Ōtsuka' in stream.getvalue()
    assert printable(title) == title


def test_logs_the_page_without_the_ack_link(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ConsoleNotifier(io.StringIO()).send(make_page())
    [record] = [r for r in caplog.records if r.name == "tocsin.notify.console"]
    assert record.levelno == logging.INFO
    assert record.msg == "notify.console.page: %s"
    assert record.__dict__["alert_id"] == 12
    assert "Payment API 500s" in record.getMessage()
    # The ack link acts as the person paged: terminal only, never log storage.
    assert "sig-abc123" not in caplog.text


def test_a_closed_stream_does_not_fail_the_page(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    stream.close()
    outcome = ConsoleNotifier(stream).send(make_page())
    assert outcome.ok
    assert "notify.console.stream_failed" in caplog.text


def test_with_real_channels_configured_the_line_keeps_the_signed_link_out() -> None:
    stream = io.StringIO()
    ConsoleNotifier(stream, show_links=False).send(make_page())
    assert stream.getvalue() == (
        'PAGE alert #12 [critical] payment: "Payment API 500s" -> Alice (step 1)'
        " ack: link sent to the person only\n"
    )


def test_the_registry_shows_links_on_the_console_only_without_real_channels() -> None:
    clock = FakeClock(datetime(2026, 3, 2, tzinfo=UTC))
    shown, withheld = io.StringIO(), io.StringIO()
    demo = build_notifiers(Notifications(), clock, console_stream=shown)
    real = build_notifiers(Notifications(webhook=WebhookProvider(secret="test-webhook-secret")),
                           clock, console_stream=withheld)

    demo["console"].send(make_page())
    real["console"].send(make_page())

    assert "ack: http://127.0.0.1:8080/a/12/sig-abc123" in shown.getvalue()
    assert "sig-abc123" not in withheld.getvalue()
