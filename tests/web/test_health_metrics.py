"""/healthz fails when the engine falls behind; /metrics tells Prometheus what happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import AM_KEY, PAGING, USERS, Web, alertmanager_body, close_web, make_web
from tocsin.clock import FakeClock


def test_healthz_is_ok_when_nothing_is_overdue(web: Web):
    web.fire()

    response = web.client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["problems"] == []


def test_healthz_fails_when_due_work_is_more_than_a_minute_late(web: Web):
    web.fire(run=False)  # the first escalation step is due now
    web.clock.advance(seconds=61)

    response = web.client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["engine_lag_seconds"] == pytest.approx(61)
    assert any("behind" in problem for problem in body["problems"])


def test_healthz_recovers_once_the_engine_catches_up(web: Web):
    web.fire(run=False)
    web.clock.advance(seconds=90)
    assert web.client.get("/healthz").status_code == 503

    web.runtime.engine.run_due()

    assert web.client.get("/healthz").status_code == 200


def test_healthz_tolerates_work_less_than_a_minute_late(web: Web):
    web.fire(run=False)
    web.clock.advance(seconds=59)

    response = web.client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["engine_lag_seconds"] == pytest.approx(59)


def test_healthz_fails_when_the_engine_is_required_but_not_running(
        tmp_path: Path, db_url: str, clock: FakeClock):
    web = make_web(tmp_path, db_url, clock, engine_required=True)
    try:
        response = web.client.get("/healthz")
    finally:
        close_web(web)

    assert response.status_code == 503
    assert "engine is not running" in response.json()["problems"]


def test_metrics_are_public_and_in_prometheus_text_format(web: Web):
    response = web.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE tocsin_engine_lag_seconds gauge" in response.text


def test_metrics_count_alerts_received_by_integration(web: Web):
    name = "tocsin_alerts_received_total"
    before = web.metric(name, integration="prometheus", outcome="open")

    response = web.client.post(f"/integrations/{AM_KEY}/alertmanager",
                               json=alertmanager_body("fp-metrics"))

    assert response.status_code == 200
    assert web.metric(name, integration="prometheus", outcome="open") == before + 1


def test_metrics_count_pages_by_channel_and_outcome(web: Web):
    name = "tocsin_pages_total"
    sent = web.metric(name, channel="webhook", outcome="sent")
    failed = web.metric(name, channel="console", outcome="failed")
    web.channels["console"].fail_next(1, retryable=False)

    web.fire()

    assert web.metric(name, channel="webhook", outcome="sent") == sent + 1
    assert web.metric(name, channel="console", outcome="failed") == failed + 1


def test_metrics_show_how_far_behind_the_engine_is(web: Web):
    web.fire(run=False)
    web.clock.advance(seconds=150)

    assert web.metric("tocsin_engine_lag_seconds") == pytest.approx(150)

    web.runtime.engine.run_due()

    assert web.metric("tocsin_engine_lag_seconds") == 0


def test_head_healthz_answers_for_load_balancers(web):
    assert web.client.head("/healthz").status_code == 200


def test_a_wrong_method_gets_the_documented_error_shape(web):
    response = web.client.get("/api/v1/alerts/1/ack")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_metrics_count_alerts_no_route_takes(tmp_path, db_url, clock):
    # Only databases alerts are routed, and the alert's service has no policy.
    config = (USERS + PAGING).replace("routes:\n  - {notify: critical}",
                                      "routes:\n  - {match: {team: databases}, notify: critical}")
    config = config.replace("  - {name: payment, escalation_policy: critical}",
                            "  - {name: payment}")
    web = make_web(tmp_path, db_url, clock, config)
    try:
        before = web.metric("tocsin_alerts_unrouted_total")
        response = web.client.post(f"/integrations/{AM_KEY}/alertmanager",
                                   json=alertmanager_body("fp-unrouted"))

        assert response.status_code == 200
        assert web.metric("tocsin_alerts_unrouted_total") == before + 1
    finally:
        close_web(web)
