"""One transaction for a request's writes, tried again when a racing writer won.

Webhooks and the Opsgenie-compatible API both write alerts that other
requests may be writing at the same moment. A lost race for a new key, a
deadlock or a serialization failure is retried whole after a short random
wait; anything else, or the last failure, reaches the error handlers
(503 with Retry-After for a race still lost).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tocsin.db import transaction
from tocsin.engine.runtime import Runtime

RETRIES = 5
T = TypeVar("T")


def commit(runtime: Runtime, work: Callable[[Session, datetime], T]) -> T:
    """Run `work` in one transaction and commit it, retrying a lost race; wake the engine."""
    for attempt in range(RETRIES):
        try:
            with transaction(runtime.sessions) as session:
                result = work(session, runtime.clock.now())
            break
        except (IntegrityError, OperationalError) as exc:
            if attempt == RETRIES - 1 or not worth_retrying(exc):
                raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
    runtime.engine.wake()
    return result


def worth_retrying(exc: IntegrityError | OperationalError) -> bool:
    # A lost race for a new key, a deadlock or a serialization failure.
    return isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) in (
        "40P01", "40001")
