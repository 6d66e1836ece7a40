"""On-call maths benchmark: many schedules, layers and overrides, against the oracle.

Builds 1,000 schedules of 3 layers (weekly, daily, and a restricted night
layer) over 5,000 users, with 500 overrides spread among them, then prints:

- the time to answer "who is on call now" for every schedule;
- the time to expand one schedule's final shifts for a year;
- the same two for the deliberately simple oracle of tests/oncall/test_oracle.py,
  which walks the definitions (the year expansion walks 15-minute steps).

Run from the repository root: `.venv/bin/python bench/oncall.py`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.oncall.test_oracle import oracle

from tocsin.config.model import WEEKDAYS, Layer, Override, Restriction, Schedule
from tocsin.oncall.rules import clear_caches, oncall_at, shifts

ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kathmandu", "UTC")
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def build(rng: random.Random, schedules: int, users: int, overrides: int) -> list[Schedule]:
    people = [f"user{i}" for i in range(users)]
    built = [_schedule(rng, index, people) for index in range(schedules)]
    for index in range(overrides):
        target = rng.randrange(schedules)
        built[target] = _with_override(rng, built[target], people, index)
    return built


def _schedule(rng: random.Random, index: int, people: list[str]) -> Schedule:
    def crew() -> tuple[str, ...]:
        return tuple(rng.sample(people, rng.randint(4, 9)))

    start = date(2026, 1, 5)
    weekly = Layer("weekly", crew(), clock(9), "mon", start, name="weekly")
    daily = Layer("daily", crew(), clock(rng.choice((0, 8, 9))), "mon", start, name="daily")
    nights = Layer(
        "daily", crew(), clock(22), "mon", start, name="nights",
        restrictions=(Restriction(clock(22), clock(6), WEEKDAYS[:5]),),
    )
    return Schedule(f"schedule-{index}", rng.choice(ZONES), (weekly, daily, nights))


def _with_override(
    rng: random.Random, schedule: Schedule, people: list[str], index: int,
) -> Schedule:
    start = NOW + timedelta(hours=rng.randint(-24 * 30, 24 * 300))
    end = start + timedelta(hours=rng.randint(2, 72))
    kind = rng.choice(("whole", "add", "replace"))
    replaces = rng.choice(schedule.layers[0].participants) if kind == "replace" else None
    override = Override(rng.choice(people), start, end, kind, replaces, id=f"bench:{index}")
    return Schedule(schedule.name, schedule.timezone, schedule.layers,
                    (*schedule.overrides, override))


def timed(action, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """The median wall time of `repeat` runs, in milliseconds."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def oracle_year(schedule: Schedule) -> int:
    """Who is on call at every 15 minutes of a year, by the definitions."""
    changes = 0
    previous = None
    at = NOW
    while at < NOW + timedelta(days=365):
        current = oracle(schedule, [], at)
        changes += current != previous
        previous = current
        at += timedelta(minutes=15)
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--overrides", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-oracle-year", action="store_true",
                        help="skip the oracle's year walk (about a minute)")
    args = parser.parse_args()
    schedules = build(random.Random(args.seed), args.schedules, args.users, args.overrides)
    busiest = max(schedules, key=lambda s: len(s.overrides))
    year_end = NOW + timedelta(days=365)

    def cold(action):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            clear_caches()
            return action()
        return run

    rows = [
        ("who is on call now, all schedules (ms)",
         timed(lambda: [oncall_at(s, NOW) for s in schedules], args.repeat)),
        ("one schedule's final shifts for a year (ms)",
         timed(lambda: shifts(busiest, NOW, year_end), args.repeat)),
        ("oracle: who is on call now, all schedules (ms)",
         timed(lambda: [oracle(s, [], NOW) for s in schedules], 1)),
    ]
    if not args.skip_oracle_year:
        rows.append(("oracle: one schedule for a year, 15-min steps (ms)",
                     timed(lambda: oracle_year(busiest), 1)))
    cold_rows = [
        ("who is on call now, all schedules, cold caches (ms)",
         timed(cold(lambda: [oncall_at(s, NOW) for s in schedules]), args.repeat)),
        ("one schedule's year, cold caches (ms)",
         timed(cold(lambda: shifts(busiest, NOW, year_end)), args.repeat)),
    ]
    print(f"{len(schedules)} schedules x 3 layers, {args.users} users, "
          f"{sum(len(s.overrides) for s in schedules)} overrides; "
          f"year schedule has {len(busiest.overrides)} overrides, "
          f"{len(shifts(busiest, NOW, year_end))} shifts")
    for label, value in (*rows, *cold_rows):
        print(f"{label:<52} {value:10.1f}")
    engine_now, engine_year = rows[0][1], rows[1][1]
    print(f"{'oracle / engine, who is on call now':<52} {rows[2][1] / engine_now:10.1f}x")
    if len(rows) > 3:
        print(f"{'oracle / engine, a year of one schedule':<52} "
              f"{rows[3][1] / engine_year:10.1f}x")


if __name__ == "__main__":
    main()
