import random

import pytest

from tocsin.notify.retry import CAP_SECONDS, backoff_ceiling, backoff_seconds


def test_ceiling_doubles_from_ten_seconds_until_the_fifteen_minute_cap() -> None:
    ceilings = [backoff_ceiling(attempt) for attempt in range(1, 10)]
    assert ceilings == [10, 20, 40, 80, 160, 320, 640, 900, 900]


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert backoff_ceiling(10_000) == CAP_SECONDS


def test_attempt_counts_from_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        backoff_ceiling(0)


@pytest.mark.parametrize("attempt", [1, 2, 5, 8, 50])
def test_full_jitter_spreads_over_the_whole_range(attempt: int) -> None:
    rng = random.Random(20260302)
    samples = [backoff_seconds(attempt, rng) for _ in range(500)]
    ceiling = backoff_ceiling(attempt)
    assert all(0 <= sample <= ceiling for sample in samples)
    # Full jitter: both ends of the range are used, not a band near the ceiling.
    assert min(samples) < ceiling * 0.05
    assert max(samples) > ceiling * 0.95


def test_waits_grow_with_attempts_on_average() -> None:
    rng = random.Random(7)
    means = [
        sum(backoff_seconds(attempt, rng) for _ in range(2000)) / 2000 for attempt in (1, 3, 5)
    ]
    assert means[0] < means[1] < means[2] <= CAP_SECONDS


def test_the_same_seed_gives_the_same_waits() -> None:
    first = [backoff_seconds(3, random.Random(1)) for _ in range(3)]
    assert first == [backoff_seconds(3, random.Random(1)) for _ in range(3)]
