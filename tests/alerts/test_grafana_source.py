"""Parsing Grafana's unified-alerting webhook into alert events.

The bodies follow WIRE_FORMATS.md: Alertmanager's shape with `version` "1",
top-level `orgId`, `title`, `state` and `message`, and per alert
`silenceURL`, `dashboardURL`, `panelURL` (empty strings when absent),
`values`, and an optional `imageURL`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tocsin.alerts.sources import SourceError, parse_grafana

GRAFANA = "https://grafana.example.net"


def grafana_alert(**fields: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": "CheckoutLatency", "grafana_folder": "Payments",
                   "severity": "warning", "service": "payment"},
        "annotations": {"summary": "Checkout p99 above 2s", "description": "p99 is 2.4s",
                        "runbook_url": "https://wiki.example.net/runbooks/checkout"},
        "startsAt": "2026-12-04T16:00:00.5+01:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"{GRAFANA}/alerting/grafana/ab12cd/view?orgId=1",
        "fingerprint": "9f0e8d7c6b5a4f3e",
        "silenceURL": f"{GRAFANA}/alerting/silence/new?matcher=alertname%3DCheckoutLatency",
        "dashboardURL": f"{GRAFANA}/d/pay01?orgId=1",
        "panelURL": f"{GRAFANA}/d/pay01?orgId=1&viewPanel=4",
        "values": {"A": 2.41, "B": 1},
    }
    alert.update(fields)
    return alert


def grafana_body(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {
        "receiver": "tocsin", "status": status, "orgId": 1, "alerts": list(alerts),
        "groupLabels": {"alertname": "CheckoutLatency"}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": f"{GRAFANA}/", "version": "1",
        "groupKey": '{}/{}:{alertname="CheckoutLatency"}', "truncatedAlerts": 0,
        "title": "[FIRING:1] CheckoutLatency Payments", "state": "alerting",
        "message": "**Firing**\n\nValue: A=2.41",
    }


def test_a_firing_grafana_alert_maps_every_field():
    [event], errors = parse_grafana(grafana_body(grafana_alert()))

    assert errors == []
    assert event.action == "trigger"
    assert event.dedup_key == "9f0e8d7c6b5a4f3e"
    assert event.title == "Checkout p99 above 2s"
    assert event.description == "p99 is 2.4s"
    assert event.severity == "warning"
    assert event.service == "payment"
    assert event.runbook_url == "https://wiki.example.net/runbooks/checkout"
    assert event.source_url == f"{GRAFANA}/alerting/grafana/ab12cd/view?orgId=1"
    assert event.labels["grafana_folder"] == "Payments"
    assert event.instance_time == datetime(2026, 12, 4, 15, 0, 0, 500000, tzinfo=UTC)
    assert event.details["values"] == {"A": 2.41, "B": 1}
    assert event.details["links"] == {
        "rule": f"{GRAFANA}/alerting/grafana/ab12cd/view?orgId=1",
        "panel": f"{GRAFANA}/d/pay01?orgId=1&viewPanel=4",
        "dashboard": f"{GRAFANA}/d/pay01?orgId=1",
        "silence": f"{GRAFANA}/alerting/silence/new?matcher=alertname%3DCheckoutLatency",
    }


def test_a_resolved_grafana_alert_resolves_at_its_end_time():
    alert = grafana_alert(status="resolved", endsAt="2026-12-04T16:20:00+01:00",
                          values={"A": 0.9, "B": 0})
    body = {**grafana_body(alert, status="resolved"), "state": "ok",
            "title": "[RESOLVED] CheckoutLatency Payments"}

    [event], errors = parse_grafana(body)

    assert errors == []
    assert event.action == "resolve"
    assert event.dedup_key == "9f0e8d7c6b5a4f3e"
    assert event.source_time == datetime(2026, 12, 4, 15, 20, tzinfo=UTC)
    assert event.instance_time == datetime(2026, 12, 4, 15, 0, 0, 500000, tzinfo=UTC)


def test_empty_link_strings_mean_absent_and_the_panel_stands_in_for_the_rule():
    alert = grafana_alert(generatorURL="", dashboardURL="", silenceURL="",
                          imageURL=f"{GRAFANA}/render/abc.png")

    [event], _ = parse_grafana(grafana_body(alert))

    assert event.source_url == f"{GRAFANA}/d/pay01?orgId=1&viewPanel=4"
    assert event.details["links"] == {"panel": f"{GRAFANA}/d/pay01?orgId=1&viewPanel=4",
                                      "image": f"{GRAFANA}/render/abc.png"}


def test_title_falls_back_to_the_alert_name_and_older_grafana_value_strings_are_kept():
    alert = grafana_alert(annotations={}, values=None,
                          valueString="[ var='A' labels={} value=2.41 ]")

    [event], _ = parse_grafana(grafana_body(alert))

    assert event.title == "CheckoutLatency"
    assert event.description is None and event.runbook_url is None
    assert "values" not in event.details
    assert event.details["value_string"] == "[ var='A' labels={} value=2.41 ]"


def test_a_bad_grafana_alert_costs_only_itself_and_is_named():
    body = grafana_body(grafana_alert(), grafana_alert(panelURL=["not", "a", "url"]),
                        grafana_alert(startsAt="tomorrow"))

    events, errors = parse_grafana(body)

    assert len(events) == 1
    assert [e.path for e in errors] == ["alerts[1].panelURL", "alerts[2].startsAt"]


def test_a_body_that_is_not_a_grafana_webhook_raises():
    with pytest.raises(SourceError) as raised:
        parse_grafana({"title": "hello", "state": "alerting"})
    assert raised.value.errors[0].path == "alerts"
