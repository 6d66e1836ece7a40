"""Resolving an incident stops its own pages; alerts linked from monitoring stay open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import Harness
from tests.support.incident_setup import runner, start
from tocsin.clock import FakeClock
from tocsin.incidents import service


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _do(harness: Harness, action: Any, actor: str = "bob", **fields: Any) -> Any:
    return runner(harness)(lambda session: action(
        session, config=harness.config, actor=actor, surface="cli", now=harness.clock.now(),
        **fields))


def _page_ids(harness: Harness, key: str) -> list[int]:
    with harness.runtime.sessions() as session:
        return [link.alert_id for link in service.alerts_of(session, service.get(session, key))
                if link.reason == "page"]


def test_a_resolved_incident_pages_nobody_and_leaves_monitoring_alerts(
    harness: Harness,
) -> None:
    monitored = harness.fire("checkout-5xx", title="Checkout 5xx above 2%")
    assert monitored is not None
    harness.ack(monitored, actor="alice")
    key = str(_do(harness, service.declare, title="Checkout failing", severity="SEV2",
                  services=("payment",)).key)
    _do(harness, service.link_alert, key=key, alert_id=monitored)
    [page] = _page_ids(harness, key)
    harness.advance(2)
    _do(harness, service.set_status, key=key, status="resolved", actor="carol")
    harness.advance(10)  # past the first step's 5 minutes: bob's turn, had it gone on
    # alice for the monitoring alert, alice for the incident's page; bob (step 2) never.
    assert [user for _, user, _ in harness.paged()] == ["alice", "alice"]
    closed = harness.alert(page)
    assert (closed.status, closed.resolved_by) == ("resolved", "carol")
    assert harness.timeline(page)[-1] == "resolved: resolved by carol via cli"
    # The monitoring alert is its source's to resolve.
    assert harness.alert(monitored).status == "acknowledged"
    with harness.runtime.sessions() as session:
        entries = service.timeline(session, key)
    done = [e for e in entries if e.kind == "pages_resolved"]
    assert [(e.actor, e.text) for e in done] == [
        ("carol", f"resolved the incident's open page (alert #{page})")]

    # Reopening does not page again; resolving again finds nothing left to resolve.
    _do(harness, service.set_status, key=key, status="monitoring")
    harness.advance(6)
    _do(harness, service.set_status, key=key, status="resolved")
    assert len(harness.paged()) == 2
    with harness.runtime.sessions() as session:
        kinds = [e.kind for e in service.timeline(session, key)]
    assert kinds.count("pages_resolved") == 1


def test_an_acknowledged_page_is_resolved_too(harness: Harness) -> None:
    key = str(_do(harness, service.declare, title="Search slow", severity="SEV2",
                  services=("payment",)).key)
    [page] = _page_ids(harness, key)
    harness.ack(page, actor="alice")
    _do(harness, service.set_status, key=key, status="resolved", actor="alice")
    assert (harness.alert(page).status, harness.alert(page).resolved_by) == (
        "resolved", "alice")
