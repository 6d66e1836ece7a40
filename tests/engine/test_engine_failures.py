"""The engine never goes quiet: a failing timer still pages someone."""

from __future__ import annotations

import pytest

from tocsin.engine import runner

POLICY = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 0}
routes:
  - {notify: critical}
"""


def test_a_timer_that_fails_pages_the_fallback_instead_of_nobody(make_harness, monkeypatch):
    harness = make_harness(POLICY)

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
