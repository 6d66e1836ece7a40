"""After downtime each overdue alert runs only its next step; later ones count from now."""

from __future__ import annotations

POLICY = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
      - {targets: [dave], timeout_minutes: 0}
routes:
  - {notify: critical}
"""


def test_overdue_steps_do_not_fire_all_at_once(make_harness):
    harness = make_harness(POLICY)
    harness.fire("api-500s")

    harness.clock.advance(minutes=60)  # the process was down: nothing ran
    harness.runtime.engine.run_due()
    harness.advance(4)
    assert [step for _, _, step in harness.paged()] == [1, 2]

    harness.advance(1)
    assert harness.paged()[-1] == (65, "dave", 3)
