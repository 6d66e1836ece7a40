"""Storms: past a route's rate, each person gets one bundled page a minute, never fewer alerts."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from tests.support.harness import FakeChannel, Harness
from tocsin.alerts import bundles as bundles_service
from tocsin.alerts.batch import ingest_batch
from tocsin.alerts.rules import IncomingEvent
from tocsin.db import transaction
from tocsin.logs import record_fields
from tocsin.notify import bundle_store
from tocsin.notify.base import DeliveryOutcome
from tocsin.notify.bundle_store import StormBundle
from tocsin.notify.bundles import BundlePage, summary
from tocsin.notify.store import Delivery

STORM = """
storm: {alerts_per_minute: LIMIT}
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary, secondary], timeout_minutes: 5}
      - {targets: [erin], timeout_minutes: 5}
routes:
  - {match: {service: payment}, notify: critical}
  - {notify: critical}
"""
KINDS = ("HighErrorRate", "HighErrorRate", "HighErrorRate", "DiskFull")


def storm_config(limit: int | str) -> str:
    return STORM.replace("LIMIT", str(limit))


def storm(harness: Harness, count: int, *, over_seconds: float, prefix: str = "k",
          labels: dict[str, str] | None = None, **fields: str) -> list[int]:
    """`count` alerts spread evenly over `over_seconds`, the engine running after each."""
    ids = []
    for n in range(count):
        if n:
            harness.clock.advance(seconds=over_seconds / count)
        alert_id = harness.fire(f"{prefix}-{n}", severity="critical", **fields,
                                labels={"alertname": KINDS[n % len(KINDS)], **(labels or {})})
        assert alert_id is not None
        ids.append(alert_id)
    return ids


def run_for(harness: Harness, seconds: float, every: float = 5) -> None:
    for _ in range(round(seconds / every)):
        harness.clock.advance(seconds=every)
        harness.runtime.engine.run_due()


def singles(fake: FakeChannel, user: str) -> list[int]:
    return [page.alert_id for page in fake.sent if page.user_id == user]


def bundles(fake: FakeChannel, user: str) -> list[tuple[datetime, BundlePage]]:
    return [(at, page) for at, page in zip(fake.bundle_times, fake.bundles, strict=True)
            if page.user_id == user]


def delivery_status(harness: Harness, alert_id: int, user: str = "alice",
                    channel: str = "webhook") -> list[str]:
    with harness.runtime.sessions() as session:
        return list(session.scalars(select(Delivery.status).where(
            Delivery.alert_id == alert_id, Delivery.user_id == user,
            Delivery.channel == channel)))


def webhooks(harness: Harness, count: int, *, per_webhook: int, over_seconds: float,
             ) -> list[int]:
    """`count` alerts in webhooks of `per_webhook`, as Alertmanager sends a storm."""
    integration = next(i for i in harness.config.integrations if i.name == "prom")
    sends = count // per_webhook
    ids: list[int] = []
    for send in range(sends):
        if send:
            harness.clock.advance(seconds=over_seconds / sends)
        events = [IncomingEvent("trigger", f"k-{n:03d}", title=f"alert {n}", severity="critical",
                                labels={"alertname": KINDS[n % len(KINDS)]})
                  for n in range(send * per_webhook, (send + 1) * per_webhook)]
        with transaction(harness.runtime.sessions) as session:
            results = ingest_batch(session, config=harness.config, integration=integration,
                                   events=events, now=harness.clock.now())
        harness.runtime.engine.run_due()
        ids += [result.alert_id for result in results if result.alert_id is not None]
    return ids


def test_200_alerts_in_30_seconds_page_each_person_once_a_minute_not_200_times(make_harness):
    harness = make_harness(storm_config(20))
    start = harness.clock.now()
    ids = webhooks(harness, 200, per_webhook=10, over_seconds=30)
    run_for(harness, 120)

    for person in ("alice", "carol"):
        for channel in ("webhook", "console"):
            fake = harness.channels[channel]
            # The first two webhooks, 20 alerts in a minute, were no storm: a page each.
            assert sorted(singles(fake, person)) == ids[:20]
            sent = bundles(fake, person)
            times = [at for at, _ in sent]
            assert len(sent) == 2, times
            assert times[0] - start == timedelta(seconds=3)  # the third webhook, at once
            # Due a minute after the first; the engine runs every 5 seconds here.
            assert timedelta(minutes=1) <= times[1] - times[0] < timedelta(seconds=65)
            assert sent[0][1].alert_ids == ids[20:30]
            assert sent[1][1].alert_ids == ids[30:], "every alert in exactly one bundle"
    _, second = bundles(harness.channels["webhook"], "alice")[1]
    kinds = Counter(KINDS[n % len(KINDS)] for n in range(30, 200))
    assert second.user_name == "Alice"
    assert summary(second) == (
        f"170 alerts on route routes[0] (payment): HighErrorRate x{kinds['HighErrorRate']}, "
        f"DiskFull x{kinds['DiskFull']}")
    assert any(f"notified Alice via webhook in storm bundle #{second.bundle_id} (170 alerts)"
               in line for line in harness.timeline(ids[100]))
    assert delivery_status(harness, ids[100]) == ["sent"]


def test_alerts_one_by_one_are_bundled_from_the_first_past_the_limit(make_harness):
    harness = make_harness(storm_config(5))
    start = harness.clock.now()
    ids = storm(harness, 12, over_seconds=6)  # one every half second
    run_for(harness, 90, every=15)

    webhook = harness.channels["webhook"]
    assert singles(webhook, "alice") == ids[:5]
    [(first_at, first), (second_at, second)] = bundles(webhook, "alice")
    assert (first.alert_ids, second.alert_ids) == (ids[5:6], ids[6:])
    assert first_at - start == timedelta(seconds=2.5)
    assert second_at - first_at >= timedelta(minutes=1)


def test_below_the_rate_every_alert_is_paged_on_its_own(make_harness):
    harness = make_harness(storm_config(20))
    ids = storm(harness, 20, over_seconds=30)
    run_for(harness, 120)

    webhook = harness.channels["webhook"]
    assert singles(webhook, "alice") == ids
    assert singles(webhook, "carol") == ids
    assert webhook.bundles == [] and harness.channels["console"].bundles == []


def test_storm_off_pages_every_alert_on_its_own(make_harness):
    harness = make_harness(storm_config("off").replace("storm: {alerts_per_minute: off}",
                                                       "storm: off"))
    ids = webhooks(harness, 50, per_webhook=10, over_seconds=10)
    run_for(harness, 60, every=15)

    assert singles(harness.channels["webhook"], "alice") == ids
    assert harness.channels["webhook"].bundles == []


def test_a_route_sets_its_own_limit_and_nested_routes_inherit_it(make_harness):
    harness = make_harness("""
storm: off
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
routes:
  - match: {service: payment}
    notify: critical
    storm: {alerts_per_minute: 5}
    routes:
      - {match: {env: prod}, notify: critical}
  - {notify: critical}
""")
    nested = storm(harness, 10, over_seconds=5, prefix="pay", labels={"env": "prod"})
    others = storm(harness, 10, over_seconds=5, prefix="web", service="web")
    run_for(harness, 90)

    webhook = harness.channels["webhook"]
    assert singles(webhook, "alice") == nested[:5] + others
    covered = sorted(i for _, page in bundles(webhook, "alice") for i in page.alert_ids)
    assert covered == nested[5:]
    assert {alert.route for _, page in bundles(webhook, "alice") for alert in page.alerts} == {
        "routes[0].routes[0]"}


def test_an_alert_acknowledged_before_its_bundle_goes_is_left_out(make_harness):
    harness = make_harness(storm_config(3))
    ids = storm(harness, 10, over_seconds=5)  # ids[3] goes at once, ids[4:] wait a minute
    harness.ack(ids[6], actor="carol")
    harness.resolve(ids[7], actor="carol")
    run_for(harness, 90)

    [(_, first), (_, second)] = bundles(harness.channels["webhook"], "alice")
    assert first.alert_ids == [ids[3]]
    assert second.alert_ids == [ids[4], ids[5], ids[8], ids[9]]
    assert delivery_status(harness, ids[6]) == ["cancelled"]
    assert not any("storm bundle" in line and "notified" in line
                   for line in harness.timeline(ids[6]))


def test_a_bundle_with_every_alert_acknowledged_is_not_sent(make_harness):
    harness = make_harness(storm_config(3))
    ids = storm(harness, 8, over_seconds=4)
    for alert_id in ids[4:]:
        harness.ack(alert_id)
    run_for(harness, 90)

    webhook = harness.channels["webhook"]
    assert [page.alert_ids for _, page in bundles(webhook, "alice")] == [[ids[3]]]
    with harness.runtime.sessions() as session:
        statuses = Counter(session.scalars(select(StormBundle.status)
                                           .where(StormBundle.user_id == "alice")))
    assert statuses == {"sent": 2, "cancelled": 2}  # webhook and console, each


def test_the_escalation_keeps_its_timing_and_its_next_step_is_bundled_too(make_harness):
    harness = make_harness(storm_config(20))
    start = harness.clock.now()
    ids = webhooks(harness, 60, per_webhook=10, over_seconds=10)
    # Every 5 seconds from just before step 2 falls due until Erin's second bundle
    # has gone; the first step's bundles in between are not what this test is about.
    run_for(harness, 285, every=57)
    run_for(harness, 90)
    run_for(harness, 105, every=35)

    webhook = harness.channels["webhook"]
    # The storm's arrivals are over when step 2 comes due, but the alerts
    # that were bundled stay bundled: Erin gets bundles, not 40 pages.
    assert sorted(singles(webhook, "erin")) == ids[:20]
    first_page = min(webhook.minutes[i] for i, page in enumerate(webhook.sent)
                     if page.user_id == "erin")
    assert 5 <= first_page < 5.1  # due at 5 minutes; the engine runs every 5 seconds here
    erin = bundles(webhook, "erin")
    assert erin[0][0] - start >= timedelta(minutes=5)
    assert erin[0][0] - start < timedelta(minutes=5, seconds=15)
    assert sorted(i for _, page in erin for i in page.alert_ids) == ids[20:]


ALICE_ONLY = STORM.replace("[primary, secondary]", "[primary]")


def test_a_bundle_that_fails_is_retried_with_the_same_key(make_harness):
    harness = make_harness(ALICE_ONLY.replace("LIMIT", "2"))
    ids = storm(harness, 5, over_seconds=2)  # ids[2] bundled at once, ids[3:] a minute later
    webhook = harness.channels["webhook"]
    webhook.fail_next(1)  # a failure the provider may get over
    run_for(harness, 120)

    [(_, first), (_, second)] = bundles(webhook, "alice")
    assert (first.alert_ids, second.alert_ids) == ([ids[2]], ids[3:])
    assert any("failed (fake failure); will retry" in line for line in harness.timeline(ids[3]))
    with harness.runtime.sessions() as session:
        row = session.get(StormBundle, second.bundle_id)
        assert row is not None
        assert (row.status, row.attempts, row.idempotency_key) == (
            "sent", 2, second.idempotency_key)


def test_a_bundle_that_cannot_be_sent_pages_each_alerts_fallback(make_harness, monkeypatch):
    harness = make_harness(ALICE_ONLY.replace("LIMIT", "0"))
    webhook = harness.channels["webhook"]
    monkeypatch.setattr(webhook, "send_bundle",
                        lambda page: DeliveryOutcome(ok=False, detail="bundle refused"))
    ids = storm(harness, 3, over_seconds=3)
    run_for(harness, 90)

    assert sorted(singles(webhook, "dave")) == ids  # the fallback contact, one page per alert
    assert any("could not notify Alice via webhook in storm bundle" in line
               for line in harness.timeline(ids[2]))
    assert delivery_status(harness, ids[2]) == ["failed"]


def test_storms_and_bundles_are_logged_by_route_and_bundle(make_harness, caplog):
    harness = make_harness(storm_config(3))
    with caplog.at_level(logging.INFO, logger="tocsin"):
        storm(harness, 6, over_seconds=3)
        run_for(harness, 180)

    def logged(name: str) -> list[dict[str, object]]:
        return [record_fields(r) for r in caplog.records if r.getMessage() == name]

    [started] = logged("storm.started")
    assert (started["route"], started["alerts"], started["limit"]) == ("routes[0]", 4, 3)
    [ended] = logged("storm.ended")
    assert (ended["route"], ended["peak"]) == ("routes[0]", 6)
    sent = [(f["user"], f["channel"], f["count"]) for f in logged("bundle.sent")]
    assert ("alice", "webhook", 1) in sent and ("alice", "webhook", 2) in sent
    assert all(isinstance(f["bundle_id"], int) for f in logged("bundle.sent"))


def test_a_limit_of_0_bundles_every_page(make_harness):
    harness = make_harness(storm_config(0))
    ids = storm(harness, 3, over_seconds=3)
    run_for(harness, 90)

    webhook = harness.channels["webhook"]
    assert singles(webhook, "alice") == []
    assert [page.alert_ids for _, page in bundles(webhook, "alice")] == [ids[:1], ids[1:]]


def test_when_bundling_fails_every_page_goes_on_its_own(make_harness, monkeypatch):
    harness = make_harness(storm_config(2))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("bundling is broken")

    monkeypatch.setattr(bundles_service, "sort_into_bundles", broken)
    ids = storm(harness, 6, over_seconds=3)
    run_for(harness, 60)

    assert singles(harness.channels["webhook"], "alice") == ids
    assert harness.channels["webhook"].bundles == []


def test_two_engines_opening_a_bundle_at_once_share_one(make_harness, monkeypatch):
    harness = make_harness(storm_config(2))
    ids = storm(harness, 3, over_seconds=1)  # the first bundle went at once
    now = harness.clock.now()
    with transaction(harness.runtime.sessions) as session:  # another engine's, just opened
        session.add(StormBundle(user_id="alice", channel="console", address="elsewhere",
                                status="queued", attempts=0, due_at=now, created_at=now,
                                detail="", idempotency_key="tocsin-bundle-other"))
    real = bundle_store.open_bundle
    calls = []

    def late(session, **key):  # ours looked before the other engine's insert was committed
        calls.append(key)
        return None if len(calls) == 1 else real(session, **key)

    monkeypatch.setattr(bundle_store, "open_bundle", late)
    more = storm(harness, 2, over_seconds=1, prefix="more")
    run_for(harness, 120)

    with harness.runtime.sessions() as session:
        other = session.scalars(select(StormBundle).where(
            StormBundle.idempotency_key == "tocsin-bundle-other")).one()
        assert other.status == "sent"
    assert calls[0] == calls[1] == {"user_id": "alice", "channel": "console"}, (
        "our insert met the other engine's bundle, so we looked again")
    [page] = [page for page in harness.channels[other.channel].bundles
              if page.bundle_id == other.id]
    assert page.alert_ids == more[:1] and page.address != "elsewhere"
    later = [i for p in harness.channels[other.channel].bundles if p.user_id == other.user_id
             for i in p.alert_ids]
    assert sorted(later) == [ids[2], *more]


class _SinglesOnly:
    """A channel whose sender has no way to carry a bundle."""

    def __init__(self, inner: FakeChannel) -> None:
        self.channel = inner.channel
        self.inner = inner

    def send(self, page):  # type: ignore[no-untyped-def]
        return self.inner.send(page)


def test_a_channel_that_cannot_carry_bundles_gets_its_pages_one_by_one(make_harness):
    harness = make_harness(storm_config(2))
    fake = harness.channels["webhook"]
    harness.channels["webhook"] = _SinglesOnly(fake)  # type: ignore[assignment]
    assert harness.runtime.config.reload() == []  # the engine takes the channels anew

    ids = storm(harness, 10, over_seconds=20)
    run_for(harness, 60)

    assert sorted(singles(fake, "alice")) == ids  # every alert paged, none lost
    assert bundles(fake, "alice") == []
    assert bundles(harness.channels["console"], "alice")  # the console still bundles
