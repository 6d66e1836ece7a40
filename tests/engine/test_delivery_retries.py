"""A failed delivery is retried with backoff; a permanent failure is recorded."""

from __future__ import annotations

POLICY = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 30}
routes:
  - {notify: critical}
"""


def test_retryable_failures_are_retried_until_delivered(make_harness):
    harness = make_harness(POLICY)
    harness.channels["webhook"].fail_next(2)
    alert_id = harness.fire("api-500s")

    harness.advance(5)

    assert [user for _, user, _ in harness.paged()] == ["alice"]
    lines = harness.timeline(alert_id)
    assert sum("will retry" in line for line in lines) == 2
    assert any(line.startswith("notification: notified Alice via webhook") for line in lines)


def test_a_permanent_failure_is_not_retried(make_harness):
    harness = make_harness(POLICY)
    harness.channels["webhook"].fail_next(1, retryable=False)
    alert_id = harness.fire("api-500s")

    harness.advance(20)

    assert [user for _, user, _ in harness.paged()] == ["dave"]  # the fallback contact
    assert any("could not notify Alice via webhook: fake failure" in line
               for line in harness.timeline(alert_id))


def test_a_page_no_channel_could_deliver_goes_to_the_fallback(make_harness):
    harness = make_harness(POLICY)
    harness.channels["webhook"].fail_next(1, retryable=False)
    alert_id = harness.fire("api-500s")

    harness.advance(1)

    assert harness.paged() == [(0, "dave", 0)]
    assert any("no channel could deliver the page to Alice; paged the fallback contact: Dave"
               in line for line in harness.timeline(alert_id))
