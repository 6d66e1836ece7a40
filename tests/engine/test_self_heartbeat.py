"""The outbound heartbeat: pinged while the engine is healthy, withheld when it is not."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine

from tests.support.harness import Harness
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.engine.runtime import config_secrets
from tocsin.engine.selfwatch import last_ping

SECRET_PATH = "/ping/s3cret-check-id"
POLICY = """
escalation_policies:
  - name: critical
    steps: [{targets: [primary], timeout_minutes: 5}, {targets: [secondary]}]
"""


@pytest.fixture
def monitor() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret="unused") as receiver:
        yield receiver


def watched(make_harness: Callable[[str], Harness], monitor: WebhookReceiver,
            method: str = "get") -> Harness:
    harness = make_harness(POLICY + f"""
self_monitoring:
  heartbeat_url: "{monitor.url(SECRET_PATH)}"
  heartbeat_every_minutes: 1
  heartbeat_method: {method}
  max_lag_minutes: 2
  timeout_seconds: 2
""")
    harness.runtime.engine.run_due()
    return harness


def ping(harness: Harness) -> bool:
    return harness.runtime.engine.selfwatch.run_due()


def test_pings_the_monitor_once_per_interval_while_healthy(make_harness, monitor):
    harness = watched(make_harness, monitor)

    sent = [ping(harness)]
    harness.clock.advance(seconds=30)
    sent.append(ping(harness))  # not due yet
    harness.advance(0.5)
    sent.append(ping(harness))

    assert sent == [True, False, True]
    assert [(r.path, r.status) for r in monitor.requests] == [(SECRET_PATH, 200)] * 2
    with harness.runtime.sessions() as session:
        assert last_ping(session) == harness.clock.now()


def test_post_is_used_when_configured(make_harness, monitor):
    harness = watched(make_harness, monitor, method="post")

    assert ping(harness)
    assert len(monitor.requests) == 1


def test_withheld_while_the_engine_has_not_run_and_resumes_after(make_harness, monitor):
    harness = watched(make_harness, monitor)
    harness.fire("disk-full")  # work that will come due while the engine is stuck
    assert ping(harness)

    harness.clock.advance(minutes=6)  # no engine pass: the loop is stuck
    withheld = ping(harness)
    harness.advance(1)  # the engine catches up
    resumed = ping(harness)

    assert (withheld, resumed) == (False, True)
    assert len(monitor.requests) == 2


def test_withheld_while_due_work_lags_though_passes_finish(make_harness, monitor, caplog):
    harness = watched(make_harness, monitor)
    harness.fire("disk-full")
    engine = harness.runtime.engine
    # Passes keep finishing, but a due escalation step is never taken (as
    # when every claim fails): only the lag shows it.
    harness.clock.advance(minutes=10)
    engine.last_loop = harness.clock.now()

    with caplog.at_level(logging.ERROR, logger="tocsin.engine.selfwatch"):
        assert not ping(harness)

    assert monitor.requests == []
    assert any("behind its oldest due work" in str(r.__dict__) for r in caplog.records)


def test_withheld_while_the_database_does_not_answer(make_harness, monitor):
    harness = watched(make_harness, monitor)
    sessions = harness.runtime.sessions
    good = sessions.kw["bind"]
    sessions.configure(bind=create_engine("sqlite:////nonexistent-tocsin-dir/tocsin.db"))
    try:
        assert not ping(harness)
    finally:
        sessions.configure(bind=good)

    assert monitor.requests == []
    harness.clock.advance(minutes=1)
    harness.runtime.engine.run_due()
    assert ping(harness)


def test_a_failed_ping_is_logged_without_the_url_and_tried_again(make_harness, monitor, caplog):
    harness = watched(make_harness, monitor)
    monitor.fail_next(1, status=503)

    with caplog.at_level(logging.INFO, logger="tocsin.engine.selfwatch"):
        failed = ping(harness)
        harness.advance(1)
        again = ping(harness)

    assert (failed, again) == (False, True)
    names = [r.getMessage() for r in caplog.records]
    assert names == ["selfwatch.heartbeat_failed", "selfwatch.heartbeat_ok"]
    assert all("s3cret" not in str(r.__dict__) for r in caplog.records)


def test_nothing_is_sent_without_a_heartbeat_url(make_harness):
    harness = make_harness(POLICY)

    harness.runtime.engine.run_due()

    assert not harness.runtime.engine.selfwatch.run_due()


def test_the_heartbeat_url_is_masked_in_logs(make_harness, monitor):
    harness = watched(make_harness, monitor)

    assert monitor.url(SECRET_PATH) in config_secrets(harness.config)
