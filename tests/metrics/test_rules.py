"""The pure metrics maths against hand-computed figures (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.config.model import WorkingHours
from tocsin.metrics import rules
from tocsin.metrics.rules import Cause, Interruptions, Outage

MIN = timedelta(minutes=1)
BANGKOK = ZoneInfo("Asia/Bangkok")  # UTC+7 all year
NEW_YORK = ZoneInfo("America/New_York")  # EST (UTC-5) until 2026-03-08 07:00 UTC, then EDT
HOURS = WorkingHours()  # business 08:00-18:00 mon-fri, sleep 22:00-08:00 every night


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def seconds(instants: list[datetime]) -> list[float]:
    return [instant.timestamp() for instant in instants]


def test_mean_median_and_p90_use_the_nearest_rank():
    four = rules.spread([40 * MIN, 10 * MIN, 30 * MIN, 20 * MIN])
    ten = rules.spread([n * MIN for n in range(1, 11)])

    # mean (10+20+30+40)/4 = 25; median rank ceil(0.5*4) = 2 -> 20; p90 rank ceil(3.6) = 4
    assert four == rules.Spread(4, 25 * MIN, 20 * MIN, 40 * MIN)
    # 1..10 minutes: median rank 5 -> 5 min, p90 rank 9 -> 9 min, mean 5.5 min
    assert (ten.mean, ten.median, ten.p90) == (timedelta(seconds=330), 5 * MIN, 9 * MIN)
    assert rules.spread([]) == rules.Spread(0, None, None, None)


def test_rates_and_incidents_per_week():
    assert rules.rate(2, 5) == 0.4
    assert rules.rate(0, 0) is None
    # 5 incidents over 30 days = 5 / (30/7) weeks
    assert rules.per_week(5, utc("2026-03-01"), utc("2026-03-31")) == pytest.approx(7 / 6)


def test_a_service_is_as_down_as_its_worst_component_at_each_instant():
    api = [(utc("2026-03-02 10:00"), "partial_outage"), (utc("2026-03-02 10:40"), "operational")]
    db = [(utc("2026-03-02 10:20"), "major_outage"),
          (utc("2026-03-02 11:00"), "degraded_performance"),
          (utc("2026-03-02 11:30"), "operational")]

    merged = rules.worst_history([api, db])
    # Down from 10:00 (api partial) to 11:00 (db only degraded): 60 of 240 minutes.
    figure = rules.service_uptime(component_histories=[api, db], outages=[],
                                  start=utc("2026-03-02 09:00"), end=utc("2026-03-02 13:00"))

    assert merged == [(utc("2026-03-02 10:00"), "partial_outage"),
                      (utc("2026-03-02 10:20"), "major_outage"),
                      (utc("2026-03-02 10:40"), "major_outage"),
                      (utc("2026-03-02 11:00"), "degraded_performance"),
                      (utc("2026-03-02 11:30"), "operational")]
    assert figure == pytest.approx(1 - 60 / 240)


def test_a_service_without_components_is_down_during_its_outage_incidents():
    outages = [
        Outage(utc("2026-03-02 10:00"), utc("2026-03-02 11:00"), "partial_outage"),  # SEV2
        Outage(utc("2026-03-02 10:30"), utc("2026-03-02 10:45"), "major_outage"),  # SEV1
        Outage(utc("2026-03-02 12:00"), None, "partial_outage"),  # still open
    ]

    history = rules.outage_history(outages)
    # 10:00-11:00 and 12:00 to the window's end at 13:00: 2 of 4 hours down.
    figure = rules.service_uptime(component_histories=[], outages=outages,
                                  start=utc("2026-03-02 09:00"), end=utc("2026-03-02 13:00"))

    assert history == [(utc("2026-03-02 10:00"), "partial_outage"),
                       (utc("2026-03-02 10:30"), "major_outage"),
                       (utc("2026-03-02 10:45"), "partial_outage"),
                       (utc("2026-03-02 11:00"), "operational"),
                       (utc("2026-03-02 12:00"), "partial_outage")]
    assert figure == 0.5
    assert rules.outage_of("sev1", rules.DEFAULT_OUTAGE_SEVERITIES) == "major_outage"
    assert rules.outage_of("SEV3", rules.DEFAULT_OUTAGE_SEVERITIES) is None


def test_pages_are_classified_on_each_persons_own_clock():
    start, end = utc("2026-03-01"), utc("2026-03-15")
    same_instant = utc("2026-03-02 12:30")  # Mon 19:30 in Bangkok, Mon 07:30 in New York
    alice = [
        utc("2026-03-01 23:30"),  # Mon 06:30 local: Sunday night's sleep window
        utc("2026-03-02 02:00"),  # Mon 09:00: business
        same_instant,  # Mon 19:30: off, awake
        utc("2026-03-02 16:00"),  # Mon 23:00: sleep
        utc("2026-03-07 03:00"),  # Sat 10:00: off (not a business day), awake
    ]
    bob = [
        same_instant,  # Mon 07:30 EST: sleep
        utc("2026-03-06 12:30"),  # Fri 07:30 EST: sleep
        utc("2026-03-08 06:30"),  # Sun 01:30 EST, half an hour before the clocks go forward
        utc("2026-03-09 12:30"),  # Mon 08:30 EDT: business (07:30 had it stayed EST)
        utc("2026-03-09 22:30"),  # Mon 18:30 EDT: off, awake
    ]

    assert rules.interruptions(seconds(alice), zone=BANGKOK, hours=HOURS, start=start,
                               end=end) == Interruptions(total=5, business=1, off=4, sleep=2)
    assert rules.interruptions(seconds(bob), zone=NEW_YORK, hours=HOURS, start=start,
                               end=end) == Interruptions(total=5, business=1, off=4, sleep=3)


def test_a_window_holds_its_first_instant_and_not_its_last():
    # Monday 2026-03-02 in UTC: 08:00 opens business, 18:00 closes it, 22:00 opens sleep.
    pages = [utc("2026-03-02 08:00"), utc("2026-03-02 18:00"), utc("2026-03-02 22:00")]

    found = rules.interruptions(seconds(pages), zone=ZoneInfo("UTC"), hours=HOURS,
                                start=utc("2026-03-02"), end=utc("2026-03-03"))

    assert found == Interruptions(total=3, business=1, off=2, sleep=1)


def test_a_night_shop_business_window_wins_over_sleep():
    night_shop = WorkingHours(business_start=datetime(2026, 1, 1, 20).time(),
                              business_end=datetime(2026, 1, 1, 4).time())
    # Tue 2026-03-03 23:00 UTC (UTC zone): inside Tuesday's 20:00-04:00 business window,
    # which overlaps the 22:00-08:00 sleep window; Sat 23:00 is not a business day.
    pages = [utc("2026-03-03 23:00"), utc("2026-03-07 23:00")]

    found = rules.interruptions(seconds(pages), zone=ZoneInfo("UTC"), hours=night_shop,
                                start=utc("2026-03-01"), end=utc("2026-03-10"))

    assert found == Interruptions(total=2, business=1, off=1, sleep=1)


def _cause(number: int, when: str, services: tuple[str, ...], category: str | None) -> Cause:
    return Cause(number, utc(when), services, category)


def test_recurring_incidents_share_a_service_and_a_category_within_90_days():
    causes = [
        _cause(1, "2026-01-01", ("payment",), "deployment"),
        _cause(2, "2026-03-01", ("payment",), "deployment"),  # 59 days after 1: recurs
        _cause(3, "2026-03-02", ("payment",), "capacity"),  # another category
        _cause(4, "2026-03-03", ("search",), "deployment"),  # another service
        _cause(5, "2026-06-15", ("payment",), "Deployment"),  # 106 days after 2: not
        _cause(6, "2026-06-20", ("search", "payment"), "deployment"),  # 5 days after 5
        _cause(7, "2026-06-21", ("payment",), None),  # no category recorded
    ]
    window = {"start": utc("2026-02-01"), "end": utc("2026-07-01"),
              "window": rules.RECURRENCE_WINDOW}

    assert rules.recurring(causes, **window) == [2, 6]
    assert rules.recurring(causes, **window, categories=["capacity"]) == []
    assert rules.recurring(causes, **window, categories=["DEPLOYMENT"]) == [2, 6]
