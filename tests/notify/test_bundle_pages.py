"""A storm bundle as each channel carries it: one summary, every alert id, an ack-all link."""

from __future__ import annotations

import io

from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import SLACK_TOKEN, WEBHOOK_SECRET
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.clock import FakeClock
from tocsin.config.model import SlackProvider, WebhookProvider
from tocsin.notify.bundles import BundledAlert, BundleNotifier, BundlePage, id_ranges, summary
from tocsin.notify.console import ConsoleNotifier
from tocsin.notify.slack import SlackNotifier
from tocsin.notify.webhook import WebhookNotifier

ACK = "http://127.0.0.1:8080/b/sig-bundle-5"


def alert(alert_id: int, kind: str, *, route: str = "routes[0]", service: str = "payment",
          title: str | None = None) -> BundledAlert:
    return BundledAlert(alert_id=alert_id, title=title or f"{kind} on host-{alert_id}",
                        kind=kind, status="triggered", route=route, severity="critical",
                        service=service)


def bundle(alerts: list[BundledAlert], **changes: str) -> BundlePage:
    fields = {"bundle_id": 5, "idempotency_key": "tocsin-bundle-5", "user_id": "alice",
              "user_name": "Alice", "address": "U012ABC", "ack_url": ACK, **changes}
    return BundlePage(alerts=tuple(alerts), **fields)  # type: ignore[arg-type]


STORM = [alert(n, "HighErrorRate") for n in range(12, 42)] + [
    alert(n, "DiskFull") for n in range(42, 49)]


def test_the_summary_counts_alerts_by_kind_per_route() -> None:
    assert summary(bundle(STORM)) == (
        "37 alerts on route routes[0] (payment): HighErrorRate x30, DiskFull x7")


def test_several_routes_are_listed_busiest_first_and_one_alert_reads_singular() -> None:
    page = bundle([alert(1, "DiskFull", route="routes[2]", service="db"),
                   alert(2, "CPU"), alert(3, "CPU")])

    assert summary(page) == ("2 alerts on route routes[0] (payment): CPU x2; "
                             "1 alert on route routes[2] (db): DiskFull x1")


def test_past_five_kinds_the_rest_are_counted() -> None:
    page = bundle([alert(n, f"Kind{n}") for n in range(8)])

    assert summary(page).endswith("Kind4 x1 and 3 more kinds")


def test_alert_ids_are_every_id_with_runs_shortened() -> None:
    assert id_ranges([12, 13, 14, 20, 22, 23]) == "#12-#14, #20, #22-#23"
    assert id_ranges([]) == ""


def test_the_console_prints_one_line_with_every_id_and_the_link() -> None:
    stream = io.StringIO()
    console = ConsoleNotifier(stream)
    assert isinstance(console, BundleNotifier)

    outcome = console.send_bundle(bundle(STORM))

    assert outcome.ok
    assert stream.getvalue() == (
        "BUNDLE #5 -> Alice: 37 alerts on route routes[0] (payment): HighErrorRate x30, "
        f"DiskFull x7 [alerts #12-#48] ack all: {ACK}\n")


def test_the_console_escapes_what_senders_wrote() -> None:
    stream = io.StringIO()
    ConsoleNotifier(stream).send_bundle(bundle([alert(1, "Evil\x1b[2J\nkind")]))

    assert stream.getvalue().count("\n") == 1
    assert "Evil\\x1b[2J\\x0akind x1" in stream.getvalue()


def test_the_webhook_posts_every_alert_signed_with_the_bundles_key(
    fake_clock: FakeClock, webhook_receiver: WebhookReceiver,
) -> None:
    notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)

    outcome = notifier.send_bundle(bundle(STORM, address=webhook_receiver.url("/pages/alice")))

    assert outcome.ok
    [request] = webhook_receiver.requests
    assert request.signature_valid
    assert request.idempotency_key == "tocsin-bundle-5"
    body = request.json
    assert {key: body[key] for key in ("event", "bundle_id", "alert_count", "ack_url", "user")} == {
        "event": "bundle", "bundle_id": 5, "alert_count": 37, "ack_url": ACK,
        "user": {"id": "alice", "name": "Alice"}}
    assert body["summary"].startswith("37 alerts on route routes[0] (payment)")
    assert [item["id"] for item in body["alerts"]] == list(range(12, 49))
    assert body["alerts"][0] == {"id": 12, "title": "HighErrorRate on host-12",
                                 "status": "triggered", "severity": "critical",
                                 "service": "payment", "route": "routes[0]"}


def test_slack_sends_the_summary_the_first_alerts_and_an_ack_all_button(
    fake_slack: FakeSlack,
) -> None:
    notifier = SlackNotifier(SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url))

    outcome = notifier.send_bundle(bundle(STORM))

    assert outcome.ok
    [call] = fake_slack.calls_to("chat.postMessage")
    params = call.params
    assert params["channel"] == "U012ABC"
    assert params["text"] == ("Storm: 37 alerts on route routes[0] (payment): HighErrorRate x30, "
                              "DiskFull x7 (alerts #12-#48)")
    header, summary_block, listing, actions = params["blocks"]
    assert header["text"]["text"] == "Storm: 37 alerts"
    assert summary_block["text"]["text"] == summary(bundle(STORM))
    assert listing["text"]["text"].splitlines()[0] == "#12 HighErrorRate on host-12 [critical]"
    assert listing["text"]["text"].splitlines()[-1] == "and 22 more"
    [button] = actions["elements"]
    assert (button["url"], button["text"]["text"]) == (ACK, "Acknowledge all 37")


def test_slack_escapes_titles_in_a_bundle(fake_slack: FakeSlack) -> None:
    notifier = SlackNotifier(SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url))

    notifier.send_bundle(bundle([alert(1, "X", title="<!channel> & co")]))

    [call] = fake_slack.calls_to("chat.postMessage")
    assert "&lt;!channel&gt; &amp; co" in call.params["blocks"][2]["text"]["text"]
