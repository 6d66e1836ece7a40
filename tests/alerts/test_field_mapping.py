"""An integration's `fields:` in the parsers: pure, no server.

What a user writes in `fields:` replaces the defaults of the fields it
names; the first path with a value wins; numbers become text and objects
count as no value; a value too long for its field refuses the alert by its
path, like an unmapped one.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.alerts.test_grafana_source import grafana_alert, grafana_body
from tocsin.alerts.generic import parse_generic
from tocsin.alerts.mapping import DEFAULTS, FieldPlan, as_text, default_plan, plan_for
from tocsin.alerts.opsgenie import parse_create
from tocsin.alerts.sources import parse_alertmanager, parse_grafana, parse_pagerduty
from tocsin.config.fields import MAPPABLE, SOURCE_ROOTS, split_path
from tocsin.config.model import Config, Integration


def am_alert(**overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "firing", "fingerprint": "a1b2c3d4e5f60718",
        "startsAt": "2026-03-02T02:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "labels": {"alertname": "KubePodCrashLooping", "severity": "warning",
                   "service": "platform", "app": "checkout", "namespace": "shop"},
        "annotations": {"summary": "Pod shop/checkout-7d9 is crash looping",
                        "runbook": "https://runbooks.example.net/crashloop",
                        "headline": "checkout keeps restarting"},
        "generatorURL": "http://prometheus.example.net/graph?g0.expr=up",
    }
    alert.update(overrides)
    return alert


def am_body(*alerts: dict[str, Any], **around: Any) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "tocsin",
            "groupLabels": {"alertname": "KubePodCrashLooping"},
            "commonLabels": {"alertname": "KubePodCrashLooping"},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.example.net",
            "alerts": list(alerts), **around}


def plan(kind: str, **fields: str | tuple[str, ...]) -> FieldPlan:
    paths = {name: (value,) if isinstance(value, str) else value
             for name, value in fields.items()}
    return FieldPlan(kind, tuple(paths.items()))


def test_a_mapped_field_is_read_from_its_path_and_the_others_keep_their_defaults():
    mapping = plan("alertmanager", service=("labels.app", "labels.service"),
                   runbook_url="annotations.runbook", title="annotations.headline")

    [event], errors = parse_alertmanager(am_body(am_alert()), mapping)

    assert errors == []
    assert (event.title, event.service, event.runbook_url) == (
        "checkout keeps restarting", "checkout", "https://runbooks.example.net/crashloop")
    assert (event.severity, event.dedup_key) == ("warning", "a1b2c3d4e5f60718")
    assert event.source_url == "http://prometheus.example.net/graph?g0.expr=up"


def test_the_first_path_with_a_value_wins():
    mapping = plan("alertmanager", service=("labels.app", "labels.service"))
    no_app = am_alert(labels={"alertname": "X", "service": "platform"})
    blank_app = am_alert(labels={"alertname": "X", "app": "  ", "service": "platform"})

    [first, second], _ = parse_alertmanager(am_body(no_app, blank_app), mapping)

    assert (first.service, second.service) == ("platform", "platform")


def test_a_mapped_field_replaces_its_defaults_rather_than_falling_back_to_them():
    mapping = plan("alertmanager", title="annotations.headline", service="labels.app")
    bare = am_alert(annotations={"summary": "Pod crash looping"},
                    labels={"alertname": "X", "service": "platform"})

    [event], _ = parse_alertmanager(am_body(bare), mapping)

    # Neither annotations.summary nor labels.service is consulted: list them to keep them.
    assert (event.title, event.service) == ("Alertmanager alert", None)


def test_webhook_level_paths_are_read_from_the_body_around_the_alerts():
    mapping = plan("alertmanager", description="commonAnnotations.about",
                   source_url="externalURL", source="groupLabels.alertname")
    body = am_body(am_alert(), commonAnnotations={"about": "the shop's checkout"})

    [event], _ = parse_alertmanager(body, mapping)

    assert (event.description, event.source_url, event.source) == (
        "the shop's checkout", "http://alertmanager.example.net", "KubePodCrashLooping")


@pytest.mark.parametrize(("value", "text"), [
    ("checkout", "checkout"), (7, "7"), (95.0, "95"), (2.41, "2.41"), (-3, "-3"),
    (1e300, "1e+300"), (True, "true"), (False, "false"),
    ("", None), ("   ", None), (None, None), ({"a": 1}, None), ([1, 2], None),
    (float("nan"), None), (float("inf"), None),
])
def test_numbers_become_text_and_objects_count_as_no_value(value: Any, text: str | None):
    assert as_text(value) == text


def test_grafana_query_values_can_name_the_service_and_objects_fall_through():
    mapping = plan("grafana", title=("values", "annotations.summary"),
                   description="values.B", severity="values.A")

    [event], errors = parse_grafana(grafana_body(grafana_alert()), mapping)

    assert errors == []
    assert (event.title, event.description, event.severity) == (
        "Checkout p99 above 2s", "1", "2.41")


def test_list_items_and_quoted_keys_holding_dots():
    mapping = plan("pagerduty", source_url="links.1.href",
                   service='payload.custom_details."app.kubernetes.io/name"')
    body = {"routing_key": "k", "event_action": "trigger", "payload": {
        "summary": "Checkout down", "source": "k8s", "severity": "critical",
        "custom_details": {"app.kubernetes.io/name": "checkout"}},
        "links": [{"href": "https://a.example.net"}, {"href": "https://b.example.net"}]}

    _, event = parse_pagerduty(body, mapping)

    assert (event.source_url, event.service) == ("https://b.example.net", "checkout")
    assert split_path('payload.custom_details."app.kubernetes.io/name"') == (
        "payload", "custom_details", "app.kubernetes.io/name")


def test_a_number_key_on_an_object_is_a_key():
    mapping = plan("generic", service="details.0")

    event = parse_generic({"summary": "s", "details": {"0": "zero"}}, mapping)

    assert event.service == "zero"


def test_a_mapped_severity_too_long_for_the_alert_refuses_it_naming_the_path():
    mapping = plan("alertmanager", severity="annotations.level")
    long = am_alert(annotations={"level": "x" * 65})

    events, errors = parse_alertmanager(am_body(am_alert(), long), mapping)

    assert len(events) == 1
    assert [(e.path, e.message) for e in errors] == [
        ("alerts[1].annotations.level", "must be at most 64 characters to be the alert's "
                                        "severity")]


def test_a_mapped_title_is_cut_like_the_default_one():
    mapping = plan("alertmanager", title="annotations.headline")

    [event], _ = parse_alertmanager(am_body(am_alert(annotations={"headline": "h" * 2000})),
                                    mapping)

    assert len(event.title) == 1024 and event.title.endswith("…")


def test_unstorable_text_around_the_alerts_is_refused_when_mapped():
    mapping = plan("alertmanager", description="commonAnnotations.about")
    body = am_body(am_alert(), commonAnnotations={"about": "nul \x00 here"})

    events, errors = parse_alertmanager(body, mapping)

    assert events == []
    assert [e.path for e in errors] == ["commonAnnotations.about"]


def test_a_pagerduty_severity_mapped_from_custom_details_is_the_severity_routes_see():
    mapping = plan("pagerduty", severity="payload.custom_details.level")
    body = {"routing_key": "k", "event_action": "trigger", "payload": {
        "summary": "Checkout down", "source": "k8s", "severity": "warning",
        "custom_details": {"level": "SEV1"}}}

    _, event = parse_pagerduty(body, mapping)

    assert (event.severity, event.labels["severity"]) == ("SEV1", "SEV1")


def test_opsgenie_paths_see_details_as_text_and_the_priority_in_capitals():
    mapping = plan("opsgenie", service="details.team", severity="priority",
                   runbook_url=("details.wiki", "details.runbook"))
    body = {"message": "DB replica lag", "priority": "p1",
            "details": {"team": "dba", "runbook": "https://rb.example.net/lag", "lag": 40}}

    event = parse_create(body, config=Config(path="t.yaml"), plan=mapping).event

    assert (event.service, event.severity, event.runbook_url) == (
        "dba", "P1", "https://rb.example.net/lag")


def test_without_fields_every_parser_uses_its_default_plan():
    body = am_body(am_alert())

    assert parse_alertmanager(body) == parse_alertmanager(body, default_plan("alertmanager"))
    assert parse_alertmanager(body, default_plan("alertmanager"))[0][0].service == "platform"


def test_a_plan_is_made_once_per_integration_not_per_webhook():
    fields = (("service", ("labels.app",)),)
    first = Integration("prom", "alertmanager", "k1", fields=fields)
    reloaded = Integration("prom", "alertmanager", "k1", fields=fields)

    assert plan_for(first) is plan_for(reloaded)
    assert plan_for(first) is not plan_for(Integration("prom", "alertmanager", "k1"))


@pytest.mark.parametrize("kind", sorted(DEFAULTS))
def test_every_default_path_starts_at_a_root_check_accepts(kind: str):
    assert set(DEFAULTS[kind]) == set(MAPPABLE)
    for paths in DEFAULTS[kind].values():
        for path in paths:
            keys = split_path(path)
            assert keys is not None and keys[0] in SOURCE_ROOTS[kind], (kind, path)
