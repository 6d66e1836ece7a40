import io

from tests.support.pages import make_page
from tocsin.clock import FakeClock
from tocsin.config.model import Notifications, SlackProvider, WebhookProvider
from tocsin.notify.console import ConsoleNotifier
from tocsin.notify.registry import build_notifiers
from tocsin.notify.slack import SlackNotifier
from tocsin.notify.webhook import WebhookNotifier


def test_console_is_always_there(fake_clock: FakeClock) -> None:
    notifiers = build_notifiers(Notifications(), fake_clock)
    assert list(notifiers) == ["console"]
    assert isinstance(notifiers["console"], ConsoleNotifier)


def test_configured_providers_add_their_channels(fake_clock: FakeClock) -> None:
    notifications = Notifications(
        slack=SlackProvider(token="xoxb-1", api_url="http://127.0.0.1:9/api/"),
        webhook=WebhookProvider(secret="s"),
    )
    stream = io.StringIO()
    notifiers = build_notifiers(notifications, fake_clock, console_stream=stream)
    assert sorted(notifiers) == ["console", "slack", "webhook"]
    assert isinstance(notifiers["slack"], SlackNotifier)
    assert isinstance(notifiers["webhook"], WebhookNotifier)
    assert all(notifier.channel == name for name, notifier in notifiers.items())


def test_console_writes_to_the_stream_given(fake_clock: FakeClock) -> None:
    stream = io.StringIO()
    build_notifiers(Notifications(), fake_clock, console_stream=stream)["console"].send(make_page())
    assert stream.getvalue().startswith("PAGE alert #12")
