"""How long the engine waits before it tries a failed delivery again.

Adapters only say whether a failure is worth retrying; the engine re-queues
the delivery with a due time from `backoff_seconds`. The delay is drawn
uniformly between zero and an exponentially growing ceiling ("full jitter"),
so many pages failing at once against the same provider spread out instead
of hammering it again in lock step.
"""

from __future__ import annotations

import random

BASE_SECONDS = 10.0
FACTOR = 2.0
CAP_SECONDS = 15 * 60.0

# 10 s * 2**7 already passes the cap; clamping the exponent keeps a very large
# attempt number from overflowing a float.
_MAX_EXPONENT = 32


def backoff_ceiling(attempt: int) -> float:
    """The longest wait after `attempt` failed attempts (1 for the first failure)."""
    if attempt < 1:
        raise ValueError("attempt counts failed attempts and starts at 1")
    exponent = min(attempt - 1, _MAX_EXPONENT)
    return min(CAP_SECONDS, BASE_SECONDS * FACTOR**exponent)


def backoff_seconds(attempt: int, rng: random.Random) -> float:
    """A random wait in [0, backoff_ceiling(attempt)]: the caller passes the rng."""
    return rng.uniform(0.0, backoff_ceiling(attempt))
