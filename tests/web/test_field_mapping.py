"""Per-integration field mapping as a user sees it, over HTTP, on both backends.

Every source type gets a real-shaped body twice: once through an
integration with `fields:` and once through one without. The mapped one
stores the title, service and runbook its paths name, and the mapped
service takes it down another route to another person; the plain one keeps
the defaults of docs/integrations.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.test_grafana_source import grafana_alert, grafana_body
from tests.web.conftest import READ_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock

KEYS = {name: f"{name}-key-5c1e9a" for name in (
    "am", "am-plain", "gf", "gf-plain", "pd", "pd-plain", "gen", "gen-plain", "og", "og-plain")}

# Alice is on call for `payment` (policy critical); the shop's alerts page carol.
CONFIG = f"""
timezone: UTC
public_url: http://tocsin.test
users:
  - {{id: alice, name: Alice, contacts: {{webhook: "http://hooks.test/alice"}}}}
  - {{id: carol, name: Carol, contacts: {{webhook: "http://hooks.test/carol"}}}}
schedules:
  - {{name: primary, rotation: weekly, start_date: 2026-03-02, participants: [alice]}}
escalation_policies:
  - name: critical
    steps: [{{targets: [primary], timeout_minutes: 5}}]
  - name: shop
    steps: [{{targets: [carol], timeout_minutes: 5}}]
services:
  - {{name: payment, escalation_policy: critical}}
  - {{name: checkout, escalation_policy: shop}}
routes:
  - {{match: {{service: checkout}}, notify: shop}}
  - {{match: {{severity: SEV1}}, notify: shop}}
  - {{notify: critical}}
notifications:
  webhook: {{secret: field-mapping-webhook-secret}}
api_tokens:
  - {{name: reader, token: {READ_TOKEN}, scope: read}}
integrations:
  - name: am
    type: alertmanager
    key: {KEYS["am"]}
    service: payment
    fields:
      title: annotations.headline
      service: [labels.app, labels.service]
      runbook_url: annotations.runbook
      severity: [labels.sev, labels.severity]
  - {{name: am-plain, type: alertmanager, key: {KEYS["am-plain"]}, service: payment}}
  - name: gf
    type: grafana
    key: {KEYS["gf"]}
    fields:
      title: [annotations.headline, annotations.summary]
      service: labels.app
      runbook_url: annotations.playbook
  - {{name: gf-plain, type: grafana, key: {KEYS["gf-plain"]}}}
  - name: pd
    type: pagerduty
    key: {KEYS["pd"]}
    fields:
      title: payload.custom_details.headline
      service: [payload.custom_details.app, payload.component]
      runbook_url: links.1.href
  - {{name: pd-plain, type: pagerduty, key: {KEYS["pd-plain"]}}}
  - name: gen
    type: generic
    key: {KEYS["gen"]}
    fields:
      title: details.headline
      service: details.app
      runbook_url: details.wiki
      severity: details.level
  - {{name: gen-plain, type: generic, key: {KEYS["gen-plain"]}}}
  - name: og
    type: opsgenie
    key: {KEYS["og"]}
    fields:
      title: description
      service: [details.app, entity]
      runbook_url: details.playbook
  - {{name: og-plain, type: opsgenie, key: {KEYS["og-plain"]}}}
"""



def _line(needle: str) -> int:
    return next(n for n, line in enumerate(CONFIG.splitlines(), 1) if needle in line)


CHECKOUT_ROUTE = f"routes[0] (line {_line('service: checkout}')}): matched service=checkout"
SEV1_ROUTE = f"routes[1] (line {_line('severity: SEV1')}): matched severity=SEV1"


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG)
    yield made
    close_web(made)


def _send(web: Web, kind: str, integration: str, body: dict[str, Any]) -> int:
    key = KEYS[integration]
    if kind == "pagerduty":
        response = web.client.post("/v2/enqueue", json={**body, "routing_key": key})
        ids: list[int] = response.json()["alert_ids"]
    elif kind == "opsgenie":
        response = web.client.post("/v2/alerts", json=body,
                                   headers={"Authorization": f"GenieKey {key}"})
        ids = response.json()["alert_ids"]
    else:
        response = web.client.post(f"/integrations/{key}/{kind}", json=body)
        ids = [alert["id"] for alert in response.json()["alerts"]]
    assert response.status_code in (200, 202), response.text
    [alert_id] = ids
    return alert_id


def _paged(web: Web, alert_id: int) -> list[str]:
    web.runtime.engine.run_due()
    return [page.user_id for page in web.pages() if page.alert_id == alert_id]


def am_body(fingerprint: str) -> dict[str, Any]:
    return {
        "version": "4", "groupKey": '{}:{alertname="KubePodCrashLooping"}',
        "truncatedAlerts": 0, "status": "firing", "receiver": "tocsin",
        "groupLabels": {"alertname": "KubePodCrashLooping"},
        "commonLabels": {"alertname": "KubePodCrashLooping", "severity": "warning"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.example.net:9093",
        "alerts": [{
            "status": "firing", "fingerprint": fingerprint,
            "labels": {"alertname": "KubePodCrashLooping", "severity": "warning",
                       "service": "payment", "app": "checkout", "namespace": "shop"},
            "annotations": {"summary": "Pod shop/checkout-7d9 is crash looping",
                            "headline": "Checkout pods keep restarting",
                            "runbook": "https://runbooks.example.net/crashloop"},
            "startsAt": "2026-03-02T02:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.net:9090/graph?g0.expr=up",
        }],
    }


def gf_body(fingerprint: str) -> dict[str, Any]:
    alert = grafana_alert(fingerprint=fingerprint)
    alert["labels"] = {**alert["labels"], "app": "checkout"}
    alert["annotations"] = {**alert["annotations"], "headline": "Checkout is slow",
                            "playbook": "https://runbooks.example.net/latency"}
    return grafana_body(alert)


def pd_body(dedup_key: str) -> dict[str, Any]:
    return {
        "event_action": "trigger", "dedup_key": dedup_key,
        "payload": {"summary": "checkout-api 5xx above 5%", "source": "checkout-api-7d9",
                    "severity": "critical", "component": "checkout", "group": "shop",
                    "class": "http", "timestamp": "2026-03-02T02:58:00Z",
                    "custom_details": {"headline": "Checkout is failing", "rate": 0.07}},
        "links": [{"href": "https://grafana.example.net/d/shop", "text": "Dashboard"},
                  {"href": "https://runbooks.example.net/5xx", "text": "Runbook"}],
        "client": "Datadog", "client_url": "https://app.datadoghq.example/monitors/1",
    }


def gen_body(dedup_key: str) -> dict[str, Any]:
    return {"summary": "Nightly backup failed on db-1", "severity": "critical",
            "source": "db-1", "dedup_key": dedup_key, "service": "payment",
            "details": {"exit_code": 3, "app": "checkout", "headline": "Backup of shop failed",
                        "wiki": "https://runbooks.example.net/backup", "level": "SEV4"},
            "links": [{"href": "https://ci.example.net/jobs/991", "text": "Job 991"}]}


def og_body(alias: str) -> dict[str, Any]:
    return {"message": "DB replica lag", "alias": alias, "priority": "P1",
            "description": "Replica lag on the shop database", "entity": "checkout",
            "tags": ["db", "prod"], "source": "zabbix",
            "details": {"service": "payment", "playbook": "https://runbooks.example.net/lag",
                        "lag_seconds": 40}}


# (endpoint kind, body maker, mapped title, mapped runbook, default title, default runbook)
SOURCES = {
    "am": ("alertmanager", am_body, "Checkout pods keep restarting",
           "https://runbooks.example.net/crashloop",
           "Pod shop/checkout-7d9 is crash looping", "https://runbooks.example.net/crashloop"),
    "gf": ("grafana", gf_body, "Checkout is slow", "https://runbooks.example.net/latency",
           "Checkout p99 above 2s", "https://wiki.example.net/runbooks/checkout"),
    "pd": ("pagerduty", pd_body, "Checkout is failing", "https://runbooks.example.net/5xx",
           "checkout-api 5xx above 5%", None),
    "gen": ("generic", gen_body, "Backup of shop failed", "https://runbooks.example.net/backup",
            "Nightly backup failed on db-1", None),
    "og": ("opsgenie", og_body, "Replica lag on the shop database",
           "https://runbooks.example.net/lag", "DB replica lag", None),
}
DEFAULT_SERVICES = {"am": "payment", "gf": "payment", "pd": None, "gen": "payment",
                    "og": "payment"}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_mapped_service_routes_the_alert_to_another_team(web: Web, source: str) -> None:
    kind, body, title, runbook, _, _ = SOURCES[source]

    alert_id = _send(web, kind, source, body(f"{source}-mapped-1"))

    alert = web.alert(alert_id)
    assert (alert["title"], alert["service"], alert["runbook_url"]) == (
        title, "checkout", runbook)
    assert (alert["route"], alert["policy"]) == (CHECKOUT_ROUTE, "shop")
    assert _paged(web, alert_id) == ["carol"]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_without_fields_the_same_body_keeps_the_defaults(web: Web, source: str) -> None:
    kind, body, _, _, title, runbook = SOURCES[source]

    alert_id = _send(web, kind, f"{source}-plain", body(f"{source}-plain-1"))

    alert = web.alert(alert_id)
    assert (alert["title"], alert["service"], alert["runbook_url"]) == (
        title, DEFAULT_SERVICES[source], runbook)
    assert alert["policy"] != "shop"
    assert _paged(web, alert_id) == ["alice"]


def test_a_mapped_severity_sets_the_urgency_and_routes_the_alert(web: Web) -> None:
    body = am_body("am-sev-1")
    labels = body["alerts"][0]["labels"]
    del labels["app"]
    labels["sev"] = "SEV1"

    alert_id = _send(web, "alertmanager", "am", body)
    plain_id = _send(web, "alertmanager", "am-plain", body)

    mapped, plain = web.alert(alert_id), web.alert(plain_id)
    # The label still says warning; the mapped severity is what routes and urgency see.
    assert (mapped["severity"], mapped["urgency"], mapped["policy"]) == ("SEV1", "high", "shop")
    assert mapped["route"] == SEV1_ROUTE
    assert (plain["severity"], plain["urgency"], plain["policy"]) == (
        "warning", "low", "critical")


def test_a_generic_severity_mapped_from_details_goes_through_the_urgency_table(
    web: Web,
) -> None:
    alert = web.alert(_send(web, "generic", "gen", gen_body("gen-sev-1")))

    assert (alert["severity"], alert["urgency"]) == ("SEV4", "low")


def test_a_resolve_closes_the_alert_a_mapped_trigger_opened(web: Web) -> None:
    alert_id = _send(web, "alertmanager", "am", am_body("am-resolve-1"))
    resolved = am_body("am-resolve-1")
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-03-02T03:00:00Z"
    del resolved["alerts"][0]["annotations"]["headline"]

    assert _send(web, "alertmanager", "am", resolved) == alert_id
    assert web.alert(alert_id)["status"] == "resolved"


def test_a_storm_through_a_mapped_integration_maps_every_alert(web: Web) -> None:
    body = am_body("unused")
    template = body["alerts"][0]
    body["alerts"] = [
        {**template, "fingerprint": f"{index:016x}",
         "labels": {**template["labels"], "app": f"app-{index % 3}", "pod": str(index)}}
        for index in range(300)]

    response = web.client.post(f"/integrations/{KEYS['am']}/alertmanager", json=body)

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 300
    listed = web.call("GET", "/api/v1/alerts", READ_TOKEN,
                      params={"service": "app-2", "limit": 500}).json()["alerts"]
    assert len(listed) == 100
    assert {alert["title"] for alert in listed} == {"Checkout pods keep restarting"}
