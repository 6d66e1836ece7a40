"""A step whose schedule has nobody on call hands on at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.conftest import BASE_CONFIG
from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.telemetry import REGISTRY

EMPTY_FIRST = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [future], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
      - {targets: [frank], timeout_minutes: 0}
routes:
  - {notify: critical}
"""


def test_empty_step_is_skipped_and_recorded(make_harness):
    harness = make_harness(EMPTY_FIRST)
    alert_id = harness.fire("cpu-hot")

    assert harness.paged() == [(0, "carol", 2)]
    timeline = harness.timeline(alert_id)
    assert any("step 1 of 3 (future): nobody is on call; moving on" in line
               for line in timeline)


def test_a_final_step_of_people_without_contacts_pages_the_fallback(make_harness):
    harness = make_harness(EMPTY_FIRST)
    alert_id = harness.fire("cpu-hot")

    harness.advance(5)

    # frank has no contact on any configured channel, so dave (fallback) is paged.
    assert harness.paged() == [(0, "carol", 2), (5, "dave", 0)]
    assert any("nobody has a usable contact" in line for line in harness.timeline(alert_id))
    assert any("paged the fallback contact: Dave" in line for line in harness.timeline(alert_id))


def test_an_alert_matching_no_route_goes_to_the_fallback(make_harness):
    harness = make_harness("""
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 0}
routes:
  - {match: {team: databases}, notify: critical}
""")
    # A service the catalog does not know: no policy of its own to fall back on.
    alert_id = harness.fire("mystery", service="uncatalogued")

    assert harness.paged() == [(0, "dave", 0)]
    assert any(line.startswith("unrouted") for line in harness.timeline(alert_id))


def test_an_unrouted_alert_of_a_catalogued_service_runs_the_services_policy(make_harness):
    # The catalog says payment (the integration's default service) escalates
    # by `critical`; no route takes the alert, so that policy does.
    harness = make_harness("""
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 0}
routes:
  - {match: {team: databases}, notify: critical}
""")
    alert_id = harness.fire("payment-mystery")

    assert harness.paged() == [(0, "alice", 1)]
    assert any("no route matched; service payment names its policy; policy critical" in line
               for line in harness.timeline(alert_id))


def test_a_person_without_a_contact_beside_others_is_noted(make_harness):
    harness = make_harness("""
escalation_policies:
  - name: critical
    steps:
      - {targets: [frank, secondary], timeout_minutes: 0}
routes:
  - {notify: critical}
""")
    alert_id = harness.fire("cpu-hot")

    assert harness.paged() == [(0, "carol", 1)]
    assert any("Frank on call but with no usable contact; not paged" in line
               for line in harness.timeline(alert_id))


def _fallbacks(outcome: str) -> float:
    """`tocsin_paging_fallbacks_total` of that outcome, every reason summed."""
    return sum(sample.value for family in REGISTRY.collect() for sample in family.samples
               if sample.name == "tocsin_paging_fallbacks_total"
               and sample.labels["outcome"] == outcome)


@pytest.mark.parametrize("fallback, paged, said", [
    ("[frank]", [], "the fallback contact (Frank) has no usable contact, nobody was paged"),
    ("[frank, dave]", [(5, "dave", 0)],
     "paged the fallback contact: Dave (Frank: no usable contact)"),
])
def test_a_fallback_contact_without_a_usable_contact_is_not_counted_as_paged(
        tmp_path: Path, db_url: str, clock: FakeClock, fallback: str,
        paged: list[tuple[int, str, int]], said: str) -> None:
    # A real provider (webhook) is configured, so the console reaches nobody.
    config = BASE_CONFIG.replace("fallback: [dave]", f"fallback: {fallback}") + EMPTY_FIRST
    harness = Harness(tmp_path, db_url, clock, config)
    try:
        nobody, fallback_paged = _fallbacks("nobody_paged"), _fallbacks("fallback_paged")
        alert_id = harness.fire("cpu-hot")
        harness.advance(5)

        assert harness.paged() == [(0, "carol", 2), *paged]
        assert any(said in line for line in harness.timeline(alert_id))
        assert _fallbacks("nobody_paged") - nobody == (0 if paged else 1)
        assert _fallbacks("fallback_paged") - fallback_paged == (1 if paged else 0)
    finally:
        harness.close()
