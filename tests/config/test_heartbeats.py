"""Heartbeats in the config: defaults, names, times, services and who can ping."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error, warnings_at
from tocsin.config.model import Heartbeat

WITH_HEARTBEATS = (
    BASE
    + """\
services:
  - {name: payment, escalation_policy: critical}
api_tokens:
  - {name: ops, token: t-ops}
heartbeats:
  - {name: nightly-backup, interval_minutes: 1440, service: payment, key: hb-key-1}
  - {name: queue worker, interval_minutes: 5}
  - name: billing.export
    interval_minutes: 30
    grace_minutes: 0
    severity: warning
"""
)


def test_heartbeats_load_with_their_defaults(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, WITH_HEARTBEATS)

    assert config.heartbeats == {
        # The grace is the interval, capped at an hour.
        "nightly-backup": Heartbeat("nightly-backup", 1440, 60, "payment", "critical", "hb-key-1"),
        "queue worker": Heartbeat("queue worker", 5, 5),
        "billing.export": Heartbeat("billing.export", 30, 0, severity="warning"),
    }
    assert not [w for w in warnings if w.path.startswith("heartbeats")]


def test_no_heartbeats_is_an_empty_mapping(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)

    assert config.heartbeats == {}


def test_interval_is_required(tmp_path: Path) -> None:
    text = WITH_HEARTBEATS.replace("{name: queue worker, interval_minutes: 5}",
                                   "{name: queue worker}")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "queue worker")
    assert problem.path == "heartbeats[1].interval_minutes"
    assert problem.message == "missing required key 'interval_minutes'"
    assert problem.fix == "add interval_minutes: 60"


def test_interval_must_be_above_zero_and_grace_not_negative(tmp_path: Path) -> None:
    text = (WITH_HEARTBEATS.replace("interval_minutes: 5}", "interval_minutes: 0}")
            .replace("grace_minutes: 0", "grace_minutes: -1"))
    found = errors(tmp_path, text)

    assert [(p.path, p.message) for p in found] == [
        ("heartbeats[1].interval_minutes", "must be more than 0, got 0"),
        ("heartbeats[2].grace_minutes", "must be 0 or more, got -1"),
    ]
    assert all(p.fix for p in found)


def test_a_misspelt_key_is_named_with_the_right_one(tmp_path: Path) -> None:
    text = WITH_HEARTBEATS.replace("grace_minutes: 0", "grace_minute: 0")
    problem = only_error(tmp_path, text)

    assert problem.path == "heartbeats[2].grace_minute"
    assert problem.fix == "did you mean 'grace_minutes'?"


def test_names_must_be_unique(tmp_path: Path) -> None:
    text = WITH_HEARTBEATS.replace("name: billing.export", "name: nightly-backup")
    problem = only_error(tmp_path, text)

    first = line_of(text, "name: nightly-backup,")
    assert problem.line == line_of(text, "  - name: nightly-backup")
    assert problem.path == "heartbeats[2].name"
    assert problem.message == (
        f"duplicate name 'nightly-backup': the heartbeat at line {first} has it")
    assert problem.fix == "give each heartbeat its own name"


def test_a_name_must_fit_in_the_ping_url(tmp_path: Path) -> None:
    for bad in ('"a/b"', '" leading"', '"-dash-first"', "x" * 101):
        problem = only_error(tmp_path, WITH_HEARTBEATS.replace("queue worker", bad))

        assert problem.path == "heartbeats[1].name"
        assert problem.message.startswith("bad heartbeat name")
        assert "letters, digits" in problem.message


def test_an_unknown_service_is_named_with_a_suggestion(tmp_path: Path) -> None:
    text = WITH_HEARTBEATS.replace("service: payment, key", "service: paymnet, key")
    problem = only_error(tmp_path, text)

    assert problem.path == "heartbeats[0].service"
    assert problem.message == "unknown service 'paymnet'"
    assert "did you mean 'payment'?" in problem.fix


def test_a_bad_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = WITH_HEARTBEATS.replace("key: hb-key-1", 'key: "bad key/1"')
    problem = only_error(tmp_path, text)

    assert problem.path == "heartbeats[0].key"
    assert "letters, digits" in problem.message
    assert "bad key/1" not in problem.format()


def test_times_under_a_minute_are_warned_about(tmp_path: Path) -> None:
    text = WITH_HEARTBEATS.replace("interval_minutes: 5}", "interval_minutes: 0.05}").replace(
        "grace_minutes: 0", "grace_minutes: 0.5")
    _, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "heartbeats[1].interval_minutes") == [
        "0.05 minutes is under one minute"]
    assert warnings_at(warnings, "heartbeats[2].grace_minutes") == [
        "0.5 minutes is under one minute"]


def test_a_heartbeat_nobody_can_ping_is_warned_about(tmp_path: Path) -> None:
    text = WITH_HEARTBEATS.replace("{name: ops, token: t-ops}", "{name: ops, token: t-ops, "
                                   "scope: read}")
    config, warnings = load(tmp_path, text)

    # The one with a key can be pinged; the other two need a token of write scope.
    assert [w.path for w in warnings if "nothing can ping it" in w.message] == [
        "heartbeats[1]", "heartbeats[2]"]
    assert len(config.heartbeats) == 3
