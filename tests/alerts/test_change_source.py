"""Parsing PagerDuty change events (`POST /v2/change/enqueue`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tocsin.alerts.sources import SourceError, parse_pagerduty_change

CHANGE = {
    "routing_key": "pd0change0routing0key000000000001",
    "payload": {
        "summary": "Deployed checkout v2.14.0",
        "timestamp": "2026-12-04T15:58:00.250+0000",
        "source": "deploy-bot",
        "custom_details": {"commit": "4f2a9c1", "by": "alice"},
    },
    "links": [{"href": "https://ci.example.net/deploys/77", "text": "Deploy 77"}],
}


def problems(body: Any) -> set[str]:
    with pytest.raises(SourceError) as raised:
        parse_pagerduty_change(body)
    return {e.path for e in raised.value.errors}


def test_a_change_event_keeps_what_pagerduty_documents():
    routing_key, change = parse_pagerduty_change(CHANGE)

    assert routing_key == CHANGE["routing_key"]
    assert change.summary == "Deployed checkout v2.14.0"
    assert change.source == "deploy-bot"
    assert change.timestamp == datetime(2026, 12, 4, 15, 58, 0, 250000, tzinfo=UTC)
    assert change.details == {"commit": "4f2a9c1", "by": "alice"}
    assert change.links == [{"href": "https://ci.example.net/deploys/77", "text": "Deploy 77"}]


def test_only_the_routing_key_and_summary_are_required():
    _key, change = parse_pagerduty_change({"routing_key": "k", "payload": {"summary": "s"}})

    assert (change.source, change.timestamp, change.details, change.links) == (
        None, None, None, [])


@pytest.mark.parametrize(("body", "paths"), [
    ({"payload": {"summary": "s"}}, {"routing_key"}),
    ({"routing_key": "k"}, {"payload"}),
    ({"routing_key": "k", "payload": {}}, {"payload.summary"}),
    ({"routing_key": "k", "payload": {"summary": "s" * 1025}}, {"payload.summary"}),
    ({"routing_key": "k", "payload": {"summary": "s", "timestamp": "soon"}},
     {"payload.timestamp"}),
    ({"routing_key": "k", "payload": {"summary": "s"}, "links": [{"text": "x"}]},
     {"links[0].href"}),
    ({"routing_key": 7, "payload": {"summary": 7}}, {"routing_key", "payload.summary"}),
    ("not an object", {"body"}),
])
def test_bad_change_events_name_every_field_at_fault(body: Any, paths: set[str]):
    assert problems(body) == paths
