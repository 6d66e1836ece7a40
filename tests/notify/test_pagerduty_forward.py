"""The Events v2 forwarder against a real HTTP endpoint on loopback.

What arrives (the trigger's fields, the follow-ups' keys) and what each
answer means: 202 delivered, 400 final with the far side's message,
429 and 5xx and a dead endpoint worth retrying, the routing key nowhere
in a detail or a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.support.events_receiver import EventsReceiver
from tests.support.pages import make_page
from tests.support.server import free_port
from tocsin.alerts.rules import SEVERITY_URGENCY, urgency_for
from tocsin.alerts.sources import parse_pagerduty
from tocsin.config.model import PagerDutyProvider
from tocsin.notify.pagerduty_forward import FollowUp, PagerDutyForwarder, pd_severity

KEY = "R0UT1NGKEY0000000000000000000042"
PUBLIC_URL = "https://tocsin.example.com/"


@pytest.fixture
def far_side() -> Iterator[EventsReceiver]:
    with EventsReceiver() as receiver:
        yield receiver


@pytest.fixture
def forwarder(far_side: EventsReceiver) -> Iterator[PagerDutyForwarder]:
    sender = PagerDutyForwarder(PagerDutyProvider(url=far_side.url, timeout_seconds=5),
                                PUBLIC_URL)
    yield sender
    sender.close()


def test_a_page_arrives_as_a_trigger_with_every_field(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder,
) -> None:
    page = make_page(address=KEY, labels={"env": "prod", "component": "api", "class": "http"})

    outcome = forwarder.send(page)

    assert outcome.ok and outcome.provider_id == "tocsin-12"
    assert far_side.events == [{
        "routing_key": KEY, "event_action": "trigger", "dedup_key": "tocsin-12",
        "payload": {
            "summary": "Payment API 500s", "source": "payment", "severity": "critical",
            "timestamp": "2026-03-02T09:30:00Z", "component": "api", "class": "http",
            "custom_details": {"labels": {"env": "prod", "component": "api", "class": "http"},
                               "alert_id": 12, "step": 1,
                               "description": "Error rate above 5% for 5 minutes"},
        },
        "links": [
            {"href": "https://grafana.example.com/d/payments?orgId=1", "text": "Source"},
            {"href": "https://wiki.example.com/runbooks/payment-500s", "text": "Runbook"},
            {"href": "https://tocsin.example.com/ui/alerts/12", "text": "Tocsin alert #12"},
        ],
        "client": "Tocsin", "client_url": "https://tocsin.example.com/ui/alerts/12",
    }]


def test_the_signed_ack_link_never_leaves_tocsin(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder,
) -> None:
    page = make_page(address=KEY, ack_url="http://127.0.0.1:8080/a/12/sig-abc123")

    forwarder.send(page)

    assert "sig-abc123" not in str(far_side.events)


def test_a_long_title_is_cut_and_a_missing_service_says_tocsin(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder,
) -> None:
    forwarder.send(make_page(address=KEY, title="x" * 2000, service=None, description=None,
                             source_url=None, runbook_url=None))

    payload = far_side.events[0]["payload"]
    assert len(payload["summary"]) == 1024
    assert payload["source"] == "tocsin"
    assert "description" not in payload["custom_details"]
    assert [link["text"] for link in far_side.events[0]["links"]] == ["Tocsin alert #12"]


def test_tocsins_own_events_endpoint_accepts_the_trigger(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder,
) -> None:
    forwarder.send(make_page(address=KEY, labels={"group": "eu", "env": "prod"}))

    routing_key, incoming = parse_pagerduty(far_side.events[0])

    assert routing_key == KEY
    assert (incoming.action, incoming.dedup_key, incoming.title, incoming.severity) == (
        "trigger", "tocsin-12", "Payment API 500s", "critical")
    assert incoming.labels["group"] == "eu"


@pytest.mark.parametrize("word", sorted(SEVERITY_URGENCY))
def test_every_severity_keeps_its_urgency_on_the_far_side(word: str) -> None:
    mapped = pd_severity(word)

    assert mapped in ("critical", "error", "warning", "info")
    assert urgency_for(mapped) == urgency_for(word)


@pytest.mark.parametrize("word", [None, "", "disaster", "SEV-1", " P2 "])
def test_unknown_severities_are_never_quieter(word: str | None) -> None:
    assert urgency_for(pd_severity(word)) == urgency_for(word) == "high"


def test_followups_carry_the_same_dedup_key(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder,
) -> None:
    for action in ("acknowledge", "resolve"):
        outcome = forwarder.send_followup(FollowUp(followup_id=1, alert_id=12, action=action,
                                                   user_id="downstream", routing_key=KEY))
        assert outcome.ok

    assert far_side.events == [
        {"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "tocsin-12"},
        {"routing_key": KEY, "event_action": "resolve", "dedup_key": "tocsin-12"},
    ]


def test_a_400_is_final_with_the_far_sides_message_and_never_the_key(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder, caplog: pytest.LogCaptureFixture,
) -> None:
    far_side.answer_next(400, {"status": "invalid event", "message": "Event object is invalid",
                               "errors": [f"routing_key {KEY} is not a known integration"]})

    with caplog.at_level(logging.INFO):
        outcome = forwarder.send(make_page(address=KEY))

    assert (outcome.ok, outcome.retryable) == (False, False)
    assert outcome.detail == (
        f"{far_side.url} answered HTTP 400: Event object is invalid; "
        "routing_key <routing key> is not a known integration"
    )
    assert KEY not in caplog.text


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_throttling_and_server_errors_are_retried(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder, status: int,
) -> None:
    far_side.answer_next(status)

    outcome = forwarder.send(make_page(address=KEY))

    assert (outcome.ok, outcome.retryable) == (False, True)
    assert f"HTTP {status}" in outcome.detail


@pytest.mark.parametrize("status", [401, 403, 404, 413])
def test_other_refusals_are_final(
    far_side: EventsReceiver, forwarder: PagerDutyForwarder, status: int,
) -> None:
    far_side.answer_next(status)

    outcome = forwarder.send(make_page(address=KEY))

    assert (outcome.ok, outcome.retryable) == (False, False)


def test_an_endpoint_nobody_listens_on_is_retried_without_the_key() -> None:
    url = f"http://127.0.0.1:{free_port()}/v2/enqueue"
    sender = PagerDutyForwarder(PagerDutyProvider(url=url, timeout_seconds=2))

    outcome = sender.send_followup(FollowUp(followup_id=1, alert_id=12, action="acknowledge",
                                            user_id="downstream", routing_key=KEY))
    sender.close()

    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.detail == f"{url} unreachable (ConnectError)"
