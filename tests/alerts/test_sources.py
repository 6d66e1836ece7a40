"""Parsing what Alertmanager and PagerDuty clients send."""

from __future__ import annotations

import pytest

from tocsin.alerts.sources import SourceError, parse_alertmanager, parse_pagerduty

FIRING = {
    "status": "firing",
    "labels": {"alertname": "HighErrorRate", "severity": "critical", "service": "payment"},
    "annotations": {"summary": "Payment API 500s", "runbook_url": "https://runbooks/x"},
    "startsAt": "2026-12-04T16:00:00.123456789Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus/graph",
    "fingerprint": "0123456789abcdef",
}


def test_alertmanager_alert_becomes_an_event():
    [event], errors = parse_alertmanager({"version": "4", "alerts": [FIRING]})

    assert errors == []
    assert event.action == "trigger"
    assert event.dedup_key == "0123456789abcdef"
    assert event.title == "Payment API 500s"
    assert event.severity == "critical"
    assert event.service == "payment"
    assert event.runbook_url == "https://runbooks/x"
    assert event.instance_time is not None and event.instance_time.microsecond == 123456


def test_resolved_alert_carries_its_end_time():
    body = {"alerts": [{**FIRING, "status": "resolved", "endsAt": "2026-12-04T16:05:00Z"}]}

    [event], _ = parse_alertmanager(body)

    assert event.action == "resolve"
    assert event.source_time is not None and event.source_time.minute == 5


def test_one_bad_alert_does_not_cost_the_others():
    body = {"alerts": [FIRING, {"status": "firing", "labels": ["not", "a", "map"]}]}

    events, errors = parse_alertmanager(body)

    assert len(events) == 1
    assert errors[0].path == "alerts[1].labels"


def test_without_a_fingerprint_the_label_set_is_the_key():
    alert = {k: v for k, v in FIRING.items() if k != "fingerprint"}
    reordered = {**alert, "labels": dict(reversed(list(FIRING["labels"].items())))}

    [first], _ = parse_alertmanager({"alerts": [alert]})
    [second], _ = parse_alertmanager({"alerts": [reordered]})

    assert first.dedup_key == second.dedup_key
    assert len(first.dedup_key) == 16


def test_a_nul_character_is_refused_naming_the_field():
    alert = {**FIRING, "annotations": {"summary": "bad\x00value"}}

    events, errors = parse_alertmanager({"alerts": [alert]})

    assert events == []
    assert errors[0].path == "alerts[0].annotations.summary"


def test_not_a_webhook_at_all_raises():
    with pytest.raises(SourceError, match="alerts: must be a list"):
        parse_alertmanager({"hello": "world"})


def test_pagerduty_trigger_without_dedup_key_gets_one():
    key, event = parse_pagerduty({
        "routing_key": "r" * 32, "event_action": "trigger",
        "payload": {"summary": "Disk full on db-1 ✓ ดิสก์เต็ม", "source": "db-1",
                    "severity": "error", "component": "postgres"},
    })

    assert key == "r" * 32
    assert len(event.dedup_key) == 32
    assert event.title == "Disk full on db-1 ✓ ดิสก์เต็ม"
    assert event.labels["component"] == "postgres"


def test_pagerduty_errors_name_every_field():
    with pytest.raises(SourceError) as caught:
        parse_pagerduty({"routing_key": "k", "event_action": "trigger",
                         "payload": {"summary": "", "severity": "fatal"}})

    paths = {error.path for error in caught.value.errors}
    assert paths == {"payload.summary", "payload.source", "payload.severity"}


def test_pagerduty_resolve_needs_a_dedup_key():
    with pytest.raises(SourceError, match="dedup_key: is required to resolve"):
        parse_pagerduty({"routing_key": "k", "event_action": "resolve"})


def test_a_huge_summary_is_shortened_for_pages_but_kept_whole_in_details():
    summary = "x" * 50_000
    alert = {**FIRING, "annotations": {"summary": summary}}

    [event], _ = parse_alertmanager({"alerts": [alert]})

    assert len(event.title) == 1024
    assert event.title.endswith("…")
    assert event.details["annotations"]["summary"] == summary
