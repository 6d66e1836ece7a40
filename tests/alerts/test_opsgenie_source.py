"""Opsgenie create and action bodies to Tocsin events: pure parsing, no server."""

from __future__ import annotations

import pytest

from tocsin.alerts.opsgenie import (
    UnstorableText,
    check_identifier_type,
    dedup_key,
    parse_action,
    parse_create,
)
from tocsin.alerts.sources import SourceError
from tocsin.config.model import Config, Target, User

CONFIG = Config(path="test.yaml", users={"alice": User("alice", email="alice@example.com")})


def _errors(body: object) -> dict[str, str]:
    with pytest.raises(SourceError) as raised:
        parse_create(body, config=CONFIG)
    return {e.path: e.message for e in raised.value.errors}


def test_a_full_body_maps_to_the_alert_fields():
    parsed = parse_create({
        "message": "DB replica lag", "alias": "lag-db-2", "description": "lag 40 s",
        "priority": "p2", "tags": ["db", " prod ", "db", ""], "entity": "db-2",
        "details": {"service": "payment", "lag_s": 40, "paged": True,
                    "runbook": "https://rb.test/lag", "url": "https://grafana.test/d/1"},
        "source": "zabbix", "user": "Monitor", "note": "first seen",
        "actions": ["Restart"], "visibleTo": [{"type": "team", "name": "dba"}],
        "responders": [{"type": "user", "username": "alice@example.com"}],
    }, config=CONFIG, default_source="10.0.0.9")

    event = parsed.event
    assert (event.action, event.dedup_key, event.title, event.description) == (
        "trigger", "lag-db-2", "DB replica lag", "lag 40 s")
    assert (event.severity, event.service, event.source) == ("P2", "payment", "zabbix")
    assert (event.runbook_url, event.source_url) == ("https://rb.test/lag",
                                                    "https://grafana.test/d/1")
    assert event.labels == {"service": "payment", "lag_s": "40", "paged": "true",
                            "runbook": "https://rb.test/lag", "url": "https://grafana.test/d/1",
                            "priority": "P2", "entity": "db-2", "tags": "db,prod"}
    assert event.details["actions"] == ["Restart"]
    assert event.details["visibleTo"] == [{"type": "team", "name": "dba"}]
    assert event.responders == (Target("user", "alice"),)
    assert (parsed.alias, parsed.user, parsed.note) == ("lag-db-2", "Monitor", "first seen")


def test_defaults_a_made_up_alias_priority_p3_and_the_senders_address_as_source():
    first = parse_create({"message": "hi"}, config=CONFIG, default_source="10.0.0.9")
    second = parse_create({"message": "hi"}, config=CONFIG)

    assert (first.event.severity, first.event.source) == ("P3", "10.0.0.9")
    assert first.alias != second.alias and first.event.dedup_key == first.alias
    assert first.event.labels == {"priority": "P3"}
    assert first.event.responders == ()


def test_what_opsgenie_cuts_is_cut_not_refused():
    parsed = parse_create({
        "message": "ok", "description": "d" * 20_000, "tags": [f"t{i}" for i in range(30)]
        + ["x" * 80], "source": "s" * 300, "note": "n" * 30_000,
    }, config=CONFIG)

    assert len(parsed.event.description or "") == 15_000
    assert len(parsed.event.labels["tags"].split(",")) == 20
    assert len(parsed.event.source or "") == 100
    assert len(parsed.note or "") == 25_000


def test_every_bad_field_is_named():
    assert _errors({"message": 5, "alias": ["a"], "priority": "P6", "tags": [1],
                    "details": [], "entity": 3, "responders": {}}) == {
        "message": "Message can not be empty.",
        "alias": "alias must be a string.",
        "priority": "Priority should be one of P1, P2, P3, P4, P5.",
        "tags": "tags must be a list of strings.",
        "details": "details must be an object of strings.",
        "entity": "entity must be a string.",
        "responders": "responders must be a list.",
    }


def test_too_many_responders_and_unknown_ones_are_refused():
    many = [{"type": "user", "id": f"u{i}"} for i in range(51)]
    assert "the limit is 50" in _errors({"message": "m", "responders": many})["responders"]
    assert _errors({"message": "m", "responders": [{"type": "user", "id": "zed"}, "bob"]}) == {
        "responders[0]": "No user exists with id 'zed'.",
        "responders[1]": "a responder must be an object with type and id or name.",
    }


def test_a_body_that_is_not_an_object_is_refused():
    assert _errors([{"message": "m"}]) == {"body": "must be a JSON object"}


@pytest.mark.parametrize("text", ["nul \x00", "surrogate \ud800"])
def test_text_no_store_can_keep_is_its_own_error(text: str):
    with pytest.raises(UnstorableText) as raised:
        parse_create({"message": "ok", "details": {"k": text}}, config=CONFIG)
    assert [e.path for e in raised.value.errors] == ["details.k"]


def test_long_aliases_get_a_stable_short_key():
    long_alias = "a" * 300

    assert dedup_key("short") == "short"
    assert dedup_key(long_alias) == dedup_key(long_alias)
    assert dedup_key(long_alias).startswith("sha256:") and len(dedup_key(long_alias)) == 71
    assert parse_create({"message": "m", "alias": long_alias},
                        config=CONFIG).event.dedup_key == dedup_key(long_alias)


def test_action_bodies_are_optional_and_lenient():
    assert parse_action(None).note is None
    parsed = parse_action({"user": "Jane", "source": "bot", "note": "ack", "extra": 1})
    assert (parsed.user, parsed.source, parsed.note) == ("Jane", "bot", "ack")
    with pytest.raises(SourceError):
        parse_action({"note": 5})


@pytest.mark.parametrize(("given", "kind"), [(None, "id"), ("", "id"), ("ALIAS", "alias"),
                                             (" tiny ", "tiny")])
def test_identifier_types(given: str | None, kind: str):
    assert check_identifier_type(given) == kind


def test_an_unknown_identifier_type_is_refused():
    with pytest.raises(SourceError):
        check_identifier_type("name")
