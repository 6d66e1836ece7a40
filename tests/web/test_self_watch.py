"""Tocsin watches itself: /healthz's lag threshold and loop check, and the
/metrics counters for pages that reached nobody."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from tests.web.conftest import PAGING, USERS, close_web, make_web
from tocsin.clock import FakeClock

FALLBACKS = "tocsin_paging_fallbacks_total"


def test_healthz_lag_threshold_comes_from_the_config(tmp_path: Path, db_url: str,
                                                     clock: FakeClock):
    web = make_web(tmp_path, db_url, clock, USERS + PAGING
                   + "self_monitoring: {max_lag_minutes: 5}\n")
    try:
        web.fire(run=False)
        web.clock.advance(seconds=200)
        tolerated = web.client.get("/healthz")
        web.clock.advance(seconds=101)
        failed = web.client.get("/healthz")
    finally:
        close_web(web)

    assert tolerated.status_code == 200
    assert failed.status_code == 503
    assert failed.json()["status"] == "fail"
    assert failed.json()["problems"] == ["engine is 301s behind its oldest due work"]


def test_healthz_fails_when_the_engine_loop_stopped_running(web):
    web.runtime.engine.run_due()
    web.clock.advance(seconds=30)
    assert web.client.get("/healthz").status_code == 200

    web.clock.advance(seconds=31)  # nothing is due, but no pass for 61 s
    response = web.client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["problems"] == ["the engine loop has not run for 61s"]


def test_healthz_fails_with_a_reason_when_the_database_does_not_answer(web):
    sessions = web.runtime.sessions
    good = sessions.kw["bind"]
    sessions.configure(bind=create_engine("sqlite:////nonexistent-tocsin-dir/tocsin.db"))
    try:
        response = web.client.get("/healthz")
        metrics = web.client.get("/metrics")
    finally:
        sessions.configure(bind=good)

    assert response.status_code == 503
    assert "the database does not answer" in response.json()["problems"]
    assert metrics.status_code == 200


def test_metrics_count_a_final_step_that_found_nobody(tmp_path: Path, db_url: str,
                                                      clock: FakeClock):
    config = USERS + """
escalation_policies:
  - name: critical
    steps: [{targets: [nobody@example.com]}]
routes:
  - {notify: critical}
"""
    web = make_web(tmp_path, db_url, clock, config)
    try:
        before = web.metric(FALLBACKS, reason="nobody_found", outcome="nobody_paged")
        web.fire()
        after = web.metric(FALLBACKS, reason="nobody_found", outcome="nobody_paged")
    finally:
        close_web(web)

    assert after == before + 1


def test_metrics_count_a_page_no_channel_could_deliver(web):
    before = web.metric(FALLBACKS, reason="undeliverable", outcome="nobody_paged")
    for channel in web.channels.values():
        channel.fail_next(1, retryable=False)

    web.fire()

    assert web.metric(FALLBACKS, reason="undeliverable", outcome="nobody_paged") == before + 1
