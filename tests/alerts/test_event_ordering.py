"""Decided semantics of DESIGN.md: identity, ordering, resolves never seen."""

from __future__ import annotations

from datetime import UTC, datetime

from tocsin.alerts.rules import AlertState, IncomingEvent, decide

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T2 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def firing(starts: datetime) -> IncomingEvent:
    return IncomingEvent("trigger", "fp", instance=starts.isoformat(), instance_time=starts,
                         source_time=starts)


def resolved(starts: datetime, ends: datetime) -> IncomingEvent:
    return IncomingEvent("resolve", "fp", instance=starts.isoformat(), instance_time=starts,
                         source_time=ends)


def test_a_new_key_opens_an_alert():
    assert decide(None, firing(T0)).outcome == "open"


def test_a_repeat_updates_the_open_alert():
    state = AlertState("triggered", T0.isoformat(), T0)

    assert decide(state, firing(T0)).outcome == "update"


def test_a_resolve_never_seen_is_kept_but_pages_nobody():
    assert decide(None, resolved(T0, T1)).outcome == "open_resolved"


def test_a_firing_arriving_after_its_own_resolve_does_not_reopen():
    # The resolve (endsAt T1) arrived first; the late firing of the same
    # instance (startsAt T0) must not bring the alert back.
    state = AlertState("resolved", T0.isoformat(), T0)

    assert decide(state, firing(T0)).outcome == "ignore"


def test_a_new_instance_after_a_resolve_opens_a_new_alert():
    state = AlertState("resolved", T0.isoformat(), T0)

    assert decide(state, firing(T2)).outcome == "open"


def test_a_late_resolve_of_an_earlier_firing_is_ignored():
    state = AlertState("triggered", T2.isoformat(), T2)

    assert decide(state, resolved(T0, T1)).outcome == "ignore"


def test_a_resolve_ending_after_the_open_firing_closes_it():
    state = AlertState("acknowledged", T0.isoformat(), T0)

    assert decide(state, resolved(T0, T1)).outcome == "resolve"


def test_acknowledge_for_a_closed_key_is_dropped():
    ack = IncomingEvent("acknowledge", "fp")

    assert decide(None, ack).outcome == "ignore"
    assert decide(AlertState("resolved", None, None), ack).outcome == "ignore"
    assert decide(AlertState("acknowledged", None, None), ack).outcome == "ignore"
    assert decide(AlertState("triggered", None, None), ack).outcome == "acknowledge"


def test_pagerduty_triggers_without_instances_reopen_after_resolve():
    state = AlertState("resolved", None, None)

    assert decide(state, IncomingEvent("trigger", "k")).outcome == "open"
