"""Pages a rate limit held go as a bundle that says so, and a single one goes as a page."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.harness import Harness
from tests.support.held_texts import bundles, fire, texts
from tests.support.migrations import downgraded, schema_differences, upgrade_to_head
from tocsin.alerts.bundles import acknowledge_bundle, bundle_json
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.notify.bundle_store import StormBundle
from tocsin.notify.sms_text import bundle_sms, page_sms

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - id: alice
    name: Alice
    contacts: {sms: "+15550100"}
    notification_rules:
      high:
        - {channel: sms, after_minutes: 0}
notifications:
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
  rate_limits:
    sms: {messages: 1, per_minutes: 1}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 3}
      - {targets: [alice], timeout_minutes: 60}
routes:
  - {notify: critical, urgency: high}
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, textwrap.dedent(CONFIG))
    yield made
    made.close()


def test_an_alert_once_in_a_held_bundle_is_paged_alone_afterwards(harness: Harness) -> None:
    first = fire(harness, "disk-full")
    harness.advance(0.5)
    second = fire(harness, "api-500s")
    third = fire(harness, "queue-stuck")
    harness.advance(0.5)
    assert bundles(harness) == [(1.0, [second, third])]
    harness.ack(third)

    # Step 2 pages Alice again for the first alert at 3 and the second at 3.5.
    harness.advance(3)

    assert texts(harness) == [(0, first), (3.0, first), (4.0, second)]
    assert bundles(harness) == [(1.0, [second, third])]
    assert not any("storm" in line for line in harness.timeline(second))



def test_the_bundle_says_the_limit_held_its_pages(harness: Harness) -> None:
    fire(harness, "disk-full")
    harness.advance(0.5)
    second = fire(harness, "api-500s")
    third = fire(harness, "queue-stuck")

    harness.advance(0.5)

    [page] = harness.channels["sms"].bundles
    assert (page.reason, page.limit) == ("rate limit", "one SMS a minute")
    assert bundle_sms(page).startswith(
        "Tocsin: 2 alerts held by your limit of one SMS a minute: alert ")
    line = f"notification: notified Alice via sms in bundle #{page.bundle_id} (2 alerts held "
    line += "by the rate limit)"
    assert line in harness.timeline(second)
    assert line in harness.timeline(third)
    with harness.runtime.sessions() as session:
        stored = session.get(StormBundle, page.bundle_id)
        assert stored is not None
        assert stored.reason == "rate limit"
        assert bundle_json(session, stored)["reason"] == "rate limit"


HALF_MINUTE = CONFIG.replace("sms: {messages: 1, per_minutes: 1}",
                             "sms: {messages: 1, per_minutes: 0.5}")


def test_a_held_bundle_down_to_one_alert_before_it_goes_is_sent_as_a_page(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    harness = Harness(tmp_path, db_url, clock, textwrap.dedent(HALF_MINUTE))
    try:
        first = fire(harness, "disk-full")
        harness.advance(0.1)
        fire(harness, "api-500s")
        fire(harness, "queue-stuck")
        harness.advance(0.4)  # the first bundle goes at 0.5
        harness.advance(0.1)
        fourth = fire(harness, "cache-cold")
        fifth = fire(harness, "dns-slow")
        # Released at 1.0 into a bundle that may go a minute after the last one: at 1.5.
        harness.advance(0.4)
        assert len(harness.channels["sms"].bundles) == 1
        harness.advance(0.2)
        harness.ack(fifth)

        harness.advance(0.3)

        fake = harness.channels["sms"]
        assert len(fake.bundles) == 1
        assert texts(harness) == [(0, first), (1.5, fourth)]
        # A normal page: its alert id and the reply hint, not "Ack all".
        assert page_sms(fake.sent[1]).startswith(f"Tocsin #{fourth}")
        assert "Ack all" not in page_sms(fake.sent[1])
        assert "notification: notified Alice via sms" in harness.timeline(fourth)
        assert not any("bundle #" in line for line in harness.timeline(fourth))
        # Nothing more went for either of them.
        harness.advance(1)
        assert len(texts(harness)) == 2
        assert len(fake.bundles) == 1
    finally:
        harness.close()


TWO_STEPS = CONFIG.replace("sms: {messages: 1, per_minutes: 1}",
                           "sms: {messages: 1, per_minutes: 2}").replace(
    "timeout_minutes: 3}", "timeout_minutes: 1}")


def test_two_held_pages_for_one_alert_go_as_pages_not_a_bundle(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    harness = Harness(tmp_path, db_url, clock, textwrap.dedent(TWO_STEPS))
    try:
        first = fire(harness, "disk-full")
        harness.advance(0.1)
        second = fire(harness, "api-500s")  # held until 2.0
        harness.advance(0.4)
        harness.ack(first)
        # Step 2 pages Alice for the second alert at 1.1: held with the first page.
        harness.advance(1.5)

        assert texts(harness) == [(0, first), (2.0, second)]
        harness.advance(2)
        assert texts(harness) == [(0, first), (2.0, second), (4.0, second)]
        assert harness.channels["sms"].bundles == []
    finally:
        harness.close()


STORM = CONFIG.replace("timezone: UTC\n", "timezone: UTC\nstorm: {alerts_per_minute: 2}\n")


def test_a_storm_s_bundle_still_says_storm(tmp_path: Path, db_url: str,
                                           clock: FakeClock) -> None:
    harness = Harness(tmp_path, db_url, clock, textwrap.dedent(STORM))
    try:
        fire(harness, "disk-full")
        fire(harness, "api-500s")
        second = fire(harness, "queue-stuck")  # the route is in storm from here
        fire(harness, "cache-cold")

        harness.advance(2)

        pages = harness.channels["sms"].bundles
        assert pages
        assert {page.reason for page in pages} == {"storm"}
        assert bundle_sms(pages[0]).startswith("Tocsin storm: ")
        assert any(line.startswith("notification: notified Alice via sms in storm bundle #")
                   for line in harness.timeline(second))
    finally:
        harness.close()


def test_the_migrated_reason_column_matches_the_model(db_url: str) -> None:
    found = schema_differences(db_url)

    assert [diff for diff in found if "storm_bundles" in repr(diff)] == []


def test_bundles_stored_before_the_column_read_as_a_storm_s(db_url: str) -> None:
    with downgraded(db_url, "0015") as connection:
        connection.execute(text(
            "INSERT INTO storm_bundles (id, user_id, channel, address, status, attempts, "
            "due_at, idempotency_key, created_at, detail, alert_count) VALUES "
            "(1, 'alice', 'sms', '+15550100', 'sent', 1, '2026-03-02 03:00:00', 'k-1', "
            "'2026-03-02 03:00:00', '', 3)"))
        upgrade_to_head(connection)
        found = connection.execute(text("SELECT reason FROM storm_bundles")).scalars().all()
        connection.execute(text("DELETE FROM storm_bundles"))
        connection.commit()

    assert found == ["storm"]


def test_acknowledging_a_held_bundle_names_it_without_storm(harness: Harness) -> None:
    fire(harness, "disk-full")
    harness.advance(0.5)
    second = fire(harness, "api-500s")
    third = fire(harness, "queue-stuck")
    harness.advance(0.5)
    [page] = harness.channels["sms"].bundles

    with transaction(harness.runtime.sessions) as session:
        done = acknowledge_bundle(session, config=harness.config, bundle_id=page.bundle_id,
                                  actor="alice", surface="link", now=harness.clock.now())

    assert done.acknowledged == [second, third]
    line = (f"acknowledged: acknowledged by alice via link with bundle #{page.bundle_id} "
            "(rate limit)")
    assert line in harness.timeline(second)
    assert line in harness.timeline(third)
