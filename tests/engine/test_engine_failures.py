"""The engine never goes quiet: huge timeouts and failing timers still page someone."""

from __future__ import annotations

import pytest

from tocsin.engine import runner

HUGE = """
escalation_policies:
  - name: critical
    ack_timeout_minutes: 1e300
    steps:
      - {targets: [primary], timeout_minutes: 1e12}
      - {targets: [secondary], timeout_minutes: 0}
routes:
  - {notify: critical}
"""


def test_a_timeout_too_long_for_a_calendar_still_pages_and_waits(make_harness):
    harness = make_harness(HUGE)
    alert_id = harness.fire("slow-burn")
    harness.advance(60)

    assert harness.paged() == [(0, "alice", 1)]
    harness.ack(alert_id)
    assert harness.alert(alert_id).status == "acknowledged"


def test_a_timer_that_fails_pages_the_fallback_instead_of_nobody(make_harness, monkeypatch):
    harness = make_harness(HUGE)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("bug in a step")

    monkeypatch.setattr(runner, "apply_timer", broken)
    alert_id = harness.fire("api-500s")

    assert harness.paged() == [(0, "dave", 0)]
    assert any("the escalation failed with an internal error" in line
               for line in harness.timeline(alert_id))


@pytest.fixture(autouse=True)
def _quiet_engine_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL", logger="tocsin.engine.runner")
