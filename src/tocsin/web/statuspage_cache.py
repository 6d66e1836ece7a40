"""Rendered status page answers, kept for the rest of the current second.

The page is read far more often than it changes, and most during an
incident, when the server is busiest. An answer made once is served again
until the clock's second turns or this process writes a public update,
whichever comes first; another process's write shows within a second.
Keying on the injected clock's second, not a timer, keeps tests exact.

A write is seen when its transaction commits, whichever surface made it (the
API, the incident page, Slack): `statuspage.service` marks the session and
`forget_on_commit` listens to the process's sessions. Forgetting before the
commit would let a reader cache the old page again for the rest of the second.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from tocsin.statuspage.service import CHANGED


class PageCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._key: tuple[int, int] = (-1, -1)
        self._bodies: dict[str, bytes] = {}
        # One maker per answer: readers arriving while it is made wait for it
        # rather than each rendering the same page on the same few cores.
        self._making: dict[tuple[tuple[int, int], str], threading.Lock] = {}

    def changed(self) -> None:
        """A public update was written here: forget every answer."""
        with self._lock:
            self._version += 1
            self._bodies.clear()

    def get(self, path: str, now: datetime, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            key = (int(now.timestamp()), self._version)
            if key != self._key:
                self._key, self._bodies = key, {}
            found = self._bodies.get(path)
            if found is not None:
                return found
            maker = self._making.setdefault((key, path), threading.Lock())
        with maker:
            with self._lock:
                found = self._bodies.get(path) if self._key == key else None
            if found is not None:
                return found
            try:
                made = make()
            finally:
                with self._lock:
                    self._making.pop((key, path), None)
            with self._lock:
                if self._key == key:
                    self._bodies[path] = made
            return made


def forget_on_commit(sessions: sessionmaker[Session], cache: PageCache) -> None:
    """Forget the cache's answers whenever a session of `sessions` commits a public write."""
    kept = weakref.ref(cache)

    def committed(session: Session) -> None:
        found = kept()
        # A savepoint's release also "commits": only the outer commit makes the write seen.
        if (found is not None and not session.in_nested_transaction()
                and session.info.get(CHANGED, False)):
            found.changed()

    def ended(session: Session, transaction: SessionTransaction) -> None:
        # Read, not taken, above: every app of the process sharing `sessions` has its
        # cache. The mark goes with the outer transaction, committed or rolled back.
        if transaction.parent is None:
            session.info.pop(CHANGED, None)

    event.listen(sessions, "after_commit", committed)
    event.listen(sessions, "after_transaction_end", ended)
