"""Parsing the generic JSON alert, and what it says when the input is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tocsin.alerts.generic import derived_key, parse_generic
from tocsin.alerts.sources import SourceError

FULL = {
    "summary": "Nightly backup failed on db-1",
    "severity": "P2",
    "source": "db-1",
    "dedup_key": "backup-db-1",
    "action": "trigger",
    "details": {"exit_code": 3, "log": "/var/log/backup.log"},
    "links": [{"href": "https://ci.example.net/jobs/991", "text": "Job 991"},
              {"href": "https://wiki.example.net/backups"}],
    "service": "payment",
    "labels": {"team": "storage", "attempt": 2},
    "timestamp": "2026-12-04T03:15:00+07:00",
    "description": "The third retry failed too.",
    "runbook_url": "https://wiki.example.net/runbooks/backup",
}


def problems(body: Any) -> dict[str, str]:
    with pytest.raises(SourceError) as raised:
        parse_generic(body)
    return {e.path: e.message for e in raised.value.errors}


def test_every_field_lands_where_a_responder_looks():
    event = parse_generic(FULL)

    assert (event.action, event.dedup_key) == ("trigger", "backup-db-1")
    assert event.title == "Nightly backup failed on db-1"
    assert event.description == "The third retry failed too."
    assert (event.severity, event.service, event.source) == ("P2", "payment", "db-1")
    assert event.labels == {"team": "storage", "attempt": "2"}
    assert event.source_url == "https://ci.example.net/jobs/991"
    assert event.runbook_url == "https://wiki.example.net/runbooks/backup"
    assert event.details["details"] == {"exit_code": 3, "log": "/var/log/backup.log"}
    assert event.details["links"] == [
        {"href": "https://ci.example.net/jobs/991", "text": "Job 991"},
        {"href": "https://wiki.example.net/backups", "text": "https://wiki.example.net/backups"},
    ]
    assert event.source_time == datetime(2026, 12, 3, 20, 15, tzinfo=UTC)
    assert event.instance_time == event.source_time


def test_only_a_summary_is_needed_and_the_key_follows_summary_and_source():
    first = parse_generic({"summary": "Disk full", "source": "db-1"})
    again = parse_generic({"summary": "Disk full", "source": "db-1"})
    elsewhere = parse_generic({"summary": "Disk full", "source": "db-2"})

    assert first.action == "trigger"
    assert first.dedup_key == again.dedup_key == derived_key("Disk full", "db-1")
    assert elsewhere.dedup_key != first.dedup_key
    assert first.severity is None and first.source_url is None


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_by_key_or_by_the_same_summary(action: str):
    by_key = parse_generic({"action": action, "dedup_key": "backup-db-1"})
    by_summary = parse_generic({"action": action, "summary": "Disk full", "source": "db-1"})

    assert (by_key.action, by_key.dedup_key) == (action, "backup-db-1")
    assert by_summary.dedup_key == derived_key("Disk full", "db-1")


def test_a_resolve_with_neither_key_nor_summary_says_how_to_fix_it():
    found = problems({"action": "resolve"})

    assert list(found) == ["dedup_key"]
    assert "is required to resolve" in found["dedup_key"]
    assert "summary" in found["dedup_key"]


def test_every_bad_field_is_named_at_once():
    found = problems({
        "summary": "", "action": "page", "severity": 5, "dedup_key": "k" * 256,
        "details": ["not", "an", "object"], "links": [{"text": "no href"}, "x"],
        "labels": {"team": {"nested": 1}}, "timestamp": "last night",
        "service": "s" * 201,
    })

    assert set(found) == {"summary", "action", "severity", "dedup_key", "details",
                          "links[0].href", "links[1]", "labels.team", "timestamp", "service"}
    assert "trigger, acknowledge or resolve" in found["action"]
    assert 'such as "Disk full on db-1"' in found["summary"]
    assert "ISO 8601" in found["timestamp"]


def test_a_missing_summary_on_trigger_is_the_one_problem_named():
    assert problems({"severity": "critical"}) == {
        "summary": 'is required to trigger; send a short text such as "Disk full on db-1"'}


def test_a_body_that_is_not_an_object_is_refused():
    assert list(problems(["Disk full"])) == ["body"]


def test_a_long_summary_is_shortened_for_pages_and_kept_whole():
    summary = "disk full " * 200
    event = parse_generic({"summary": summary})

    assert len(event.title) == 1024 and event.title.endswith("…")
    assert event.details["summary"] == summary


def test_nul_characters_are_refused_naming_the_field():
    assert "details.note" in problems({"summary": "x", "details": {"note": "a\u0000b"}})
