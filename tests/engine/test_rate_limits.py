"""Rate limits per contact: pages over the limit are held, then go as one bundle."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.harness import Harness
from tests.support.held_texts import bundles, fire, texts
from tocsin.alerts import actions, service
from tocsin.alerts.rules import IncomingEvent
from tocsin.clock import FakeClock
from tocsin.config.model import Target
from tocsin.db import transaction
from tocsin.engine.runner import Engine
from tocsin.logs import record_fields

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - id: alice
    name: Alice
    contacts: {sms: "+15550100", phone: "+15550100"}
    notification_rules:
      high:
        - {channel: sms, after_minutes: 0}
        - {channel: phone, after_minutes: 5}
  - {id: dave, name: Dave, contacts: {phone: "+15550199"}}
notifications:
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
  fallback: [dave]
  rate_limits:
    sms: {messages: 1, per_minutes: SMS_MINUTES}
    phone: {messages: 1, per_minutes: 1}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 60}
routes:
  - {match: {severity: texts}, notify: critical, urgency: high, channels: [sms]}
  - {notify: critical, urgency: high}
"""


def build(tmp_path: Path, db_url: str, clock: FakeClock, sms_minutes: float) -> Harness:
    text = textwrap.dedent(CONFIG).replace("SMS_MINUTES", f"{sms_minutes:g}")
    return Harness(tmp_path, db_url, clock, text)


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = build(tmp_path, db_url, clock, 1)
    yield made
    made.close()


def test_pages_over_the_limit_go_as_one_bundle_when_the_minute_is_over(
    harness: Harness,
) -> None:
    first = fire(harness, "disk-full")
    harness.advance(0.25)
    second = fire(harness, "api-500s")
    harness.advance(0.25)
    third = fire(harness, "queue-stuck")

    harness.advance(0.49)
    assert texts(harness) == [(0, first)]
    assert bundles(harness) == []
    harness.advance(0.01)

    assert bundles(harness) == [(1.0, [second, third])]
    assert texts(harness) == [(0, first)]
    assert ("notification: held the sms page to Alice: at most 1 page in 1 minutes (rate "
            "limit); it goes at 03:01:00 UTC with any others held by then"
            in harness.timeline(second))
    harness.advance(3)
    # Nothing held is sent twice, and nothing more goes before the phone rules.
    assert len(texts(harness)) + len(bundles(harness)) == 2


def test_a_page_whose_alert_is_acknowledged_while_held_drops_out(harness: Harness) -> None:
    fire(harness, "disk-full")
    harness.advance(0.2)
    second = fire(harness, "api-500s")
    third = fire(harness, "queue-stuck")
    fourth = fire(harness, "cache-cold")
    harness.advance(0.3)

    harness.ack(fourth)
    harness.advance(0.5)

    assert bundles(harness) == [(1.0, [second, third])]
    assert ("notification: dropped the held sms page to Alice: the alert is acknowledged"
            in harness.timeline(fourth))


def test_one_page_left_held_goes_alone(harness: Harness) -> None:
    first = fire(harness, "disk-full")
    harness.advance(0.5)
    second = fire(harness, "api-500s")
    third = fire(harness, "queue-stuck")
    harness.resolve(third)

    # The engine wakes when the window frees.
    assert harness.runtime.engine.next_due() == harness.channels["sms"].start + timedelta(
        minutes=1)
    harness.advance(0.49)
    assert texts(harness) == [(0, first)]
    harness.advance(0.01)

    assert texts(harness) == [(0, first), (1.0, second)]
    assert bundles(harness) == []
    assert ("notification: dropped the held sms page to Alice: the alert is resolved"
            in harness.timeline(third))


def test_a_held_sms_does_not_keep_alice_from_her_phone_rule(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    harness = build(tmp_path, db_url, clock, 10)
    try:
        fire(harness, "disk-full")
        harness.advance(0.5)
        second = fire(harness, "api-500s")

        harness.advance(1.99)
        assert harness.paged("phone") == []
        harness.advance(0.01)

        # Held since 0.5, the SMS had not gone 2 minutes later: the call goes now.
        assert harness.paged("phone") == [(2.5, "alice", 1)]
        assert ("failover: sms has not delivered to Alice for 2 minutes; phone goes now "
                "instead of in 3 minutes" in harness.timeline(second))
        harness.advance(2.5)
        # The first alert's call at its own time.
        assert harness.paged("phone") == [(2.5, "alice", 1), (5.0, "alice", 1)]
        harness.advance(4.99)
        assert texts(harness)[1:] == []
        harness.advance(0.01)
        # The held SMS still went, once the 10 minutes were over.
        assert texts(harness)[1:] == [(10.0, second)]
        # The held SMS counted as reaching Alice: the fallback contact was never paged.
        assert [who for _, who, _ in harness.paged("phone")] == ["alice", "alice"]
    finally:
        harness.close()


def test_pages_to_the_fallback_contact_follow_the_same_limit(harness: Harness) -> None:
    # Texts only, and every text to Alice fails for good: Dave is called instead.
    harness.channels["sms"].fail_next(2, retryable=False)
    first = fire(harness, "disk-full", severity="texts")
    harness.advance(0.5)
    second = fire(harness, "api-500s", severity="texts")

    harness.advance(0.49)
    assert [(minute, page.alert_id) for minute, page in
            zip(harness.channels["phone"].minutes, harness.channels["phone"].sent,
                strict=True)] == [(0, first)]
    harness.advance(0.01)

    assert harness.paged("phone") == [(0, "dave", 0), (1.0, "dave", 0)]
    assert harness.channels["phone"].sent[1].alert_id == second


def test_reassigning_an_alert_cancels_its_held_page(harness: Harness) -> None:
    fire(harness, "disk-full")
    harness.advance(0.5)
    second = fire(harness, "api-500s")
    with transaction(harness.runtime.sessions) as session:
        actions.reassign(session, config=harness.config, alert_id=second,
                         target=Target("user", "dave"), actor="bob", surface="api",
                         now=harness.clock.now())
    harness.runtime.engine.run_due()

    harness.advance(1)

    # Dave is called for it at once; Alice's held text never goes.
    assert [(who, page.alert_id) for (_, who, _), page in
            zip(harness.paged("phone"), harness.channels["phone"].sent, strict=True)] == [
        ("dave", second)]
    assert len(texts(harness)) == 1
    assert bundles(harness) == []


def test_each_hold_and_release_is_logged_once_with_its_ids(
    harness: Harness, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tocsin.engine.pacing")
    fire(harness, "disk-full")
    second = fire(harness, "api-500s")

    harness.advance(1)

    found = [(record.getMessage(), record_fields(record).get("alert_id"))
             for record in caplog.records if record.name == "tocsin.engine.pacing"]
    assert found == [("delivery.held", second), ("delivery.released", second)]


STORM_CONFIG = """
timezone: UTC
public_url: http://tocsin.test
storm: {alerts_per_minute: 1}
users:
  - {id: alice, name: Alice, contacts: {phone: "+15550100"}}
notifications:
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
  rate_limits:
    phone: {messages: 1, per_minutes: 2}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 60}
routes:
  - {notify: critical}
"""


def test_a_storm_bundle_waits_for_the_contact_s_window_and_takes_pages_meanwhile(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    harness = Harness(tmp_path, db_url, clock, textwrap.dedent(STORM_CONFIG))
    try:
        first = fire(harness, "disk-full")
        harness.advance(0.1)
        second = fire(harness, "api-500s")  # the route is in storm from here
        harness.advance(0.1)
        third = fire(harness, "queue-stuck")

        harness.advance(1.79)
        fake = harness.channels["phone"]
        assert [page.alert_id for page in fake.sent] == [first]
        assert fake.bundles == []
        harness.advance(0.01)

        # One call at 0, then one bundle once the two minutes are over.
        assert [page.alert_id for page in fake.sent] == [first]
        assert [(round((at - fake.start).total_seconds() / 60, 3), sorted(page.alert_ids))
                for at, page in zip(fake.bundle_times, fake.bundles, strict=True)] == [
            (2.0, [second, third])]
    finally:
        harness.close()


def test_two_engines_at_once_send_each_held_page_once_and_within_the_limit(
    harness: Harness,
) -> None:
    runtime = harness.runtime
    other = Engine(sessions=runtime.sessions, config=runtime.config_now, clock=harness.clock,
                   notifiers=lambda: dict(harness.channels), links=runtime.links)
    found = next(i for i in harness.config.integrations if i.name == "prom")
    with transaction(runtime.sessions) as session:
        alert_ids = [service.ingest(session, config=harness.config, integration=found,
                                    incoming=IncomingEvent(action="trigger", dedup_key=f"k{n}",
                                                           title=f"alert {n}"),
                                    now=harness.clock.now()).alert_id for n in range(8)]

    def both_engines() -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for done in [pool.submit(runtime.engine.run_due), pool.submit(other.run_due)]:
                done.result()

    try:
        both_engines()
        first_minute = len(texts(harness)) + len(bundles(harness))
        for _ in range(3):
            harness.clock.advance(minutes=1)
            both_engines()
    finally:
        other.stop()

    assert first_minute <= 1
    got = [alert_id for _, alert_id in texts(harness)]
    got += [alert_id for _, ids in bundles(harness) for alert_id in ids]
    assert sorted(got) == sorted(alert_ids)
    # At most one message a minute reached the number.
    minutes = [minute for minute, _ in texts(harness)] + [m for m, _ in bundles(harness)]
    assert len(minutes) == len(set(minutes))


def test_held_pages_still_go_when_a_reload_removes_the_limit(harness: Harness) -> None:
    fire(harness, "disk-full")
    harness.advance(0.25)
    second = fire(harness, "api-500s")
    third = fire(harness, "queue-stuck")

    text = harness.config_path.read_text(encoding="utf-8")
    harness.config_path.write_text(text.replace("    sms: {messages: 1, per_minutes: 1}\n", ""),
                                   encoding="utf-8")
    assert [p for p in harness.runtime.config.reload() if p.severity == "error"] == []
    harness.advance(0.5)

    # Not before their time: they were due at the minute, and went together then.
    assert bundles(harness) == []
    harness.advance(0.25)
    assert bundles(harness) == [(1.0, [second, third])]
