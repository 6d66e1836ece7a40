"""Tocsin watches itself: is the engine healthy, and the outbound heartbeat.

The heartbeat is a dead man's switch: while the engine is healthy it pings
an outside monitor every `heartbeat_every_minutes`; when Tocsin stops, lags
or loses its database the pings stop and that monitor pages someone. A ping
is never sent on a hunch: each one follows a fresh health check.

The URL usually holds the monitor's secret, so logs name its host only. The
last ping is kept in the database so `tocsin status` can show it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import Clock
from tocsin.config.model import Config, SelfMonitoring
from tocsin.db import transaction
from tocsin.keys import AppSecret
from tocsin.logs import event

log = logging.getLogger(__name__)

# The last ping's time lives in the small name/value table beside the link key.
LAST_PING = "self_heartbeat.last_ping"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def engine_problems(
    *, settings: SelfMonitoring, now: datetime, lag: Callable[[], float],
    last_pass: datetime | None,
) -> list[str]:
    """Why the engine is not healthy now; empty when it is.

    `lag` asks the database how late the oldest due work is, so a database
    that does not answer is a problem too. `last_pass` None means no pass has
    finished in this process yet.
    """
    limit = settings.max_lag_minutes * 60
    problems: list[str] = []
    if last_pass is None:
        problems.append("the engine has not finished a pass yet")
    elif (now - last_pass).total_seconds() > limit:
        idle = (now - last_pass).total_seconds()
        problems.append(f"the engine loop has not run for {idle:.0f}s")
    try:
        behind = lag()
    except SQLAlchemyError:
        problems.append("the database does not answer")
        return problems
    if behind > limit:
        problems.append(f"engine is {behind:.0f}s behind its oldest due work")
    return problems


def host_of(url: str) -> str:
    """The part of a heartbeat URL that is safe to log."""
    return urlsplit(url).hostname or "?"


def last_ping(session: Session) -> datetime | None:
    value = session.scalars(select(AppSecret.value).where(AppSecret.name == LAST_PING)).first()
    if value is None:
        return None
    return datetime.strptime(value, _STAMP).replace(tzinfo=UTC)


def _store_ping(session: Session, when: datetime) -> None:
    row = session.get(AppSecret, LAST_PING)
    stamp = when.strftime(_STAMP)
    if row is None:
        session.add(AppSecret(name=LAST_PING, value=stamp))
    else:
        row.value = stamp


class SelfWatch:
    """Sends the outbound heartbeat; `run_due` is one synchronous look."""

    def __init__(
        self, *, sessions: sessionmaker[Session], config: Callable[[], Config], clock: Clock,
        lag: Callable[[], float], last_pass: Callable[[], datetime | None],
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._lag = lag
        self._last_pass = last_pass
        self._next: datetime | None = None
        self._state = "unknown"  # ok | unhealthy | failing: logged when it changes
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tocsin-selfwatch")
        self._running: Future[bool] | None = None

    def tick(self) -> None:
        """From the engine loop: look in the background so a slow monitor never delays a page."""
        if self._config().self_monitoring.heartbeat_url is None:
            return
        if self._running is None or self._running.done():
            self._running = self._pool.submit(self.run_due)

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run_due(self) -> bool:
        """Ping the monitor if a ping is due and the engine is healthy; True when one went."""
        settings = self._config().self_monitoring
        url = settings.heartbeat_url
        now = self._clock.now()
        if url is None or (self._next is not None and now < self._next):
            return False
        self._next = now + timedelta(minutes=settings.heartbeat_every_minutes)
        problems = engine_problems(settings=settings, now=now, lag=self._lag,
                                   last_pass=self._last_pass())
        if problems:
            self._change("unhealthy", "selfwatch.heartbeat_withheld", logging.ERROR,
                         problems="; ".join(problems))
            return False
        return self._ping(settings, url, now)

    def _ping(self, settings: SelfMonitoring, url: str, now: datetime) -> bool:
        try:
            with httpx.Client(timeout=settings.timeout_seconds) as client:
                response = client.request(settings.heartbeat_method.upper(), url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            # The monitor may be down; it will notice missing pings on its own.
            self._change("failing", "selfwatch.heartbeat_failed", logging.WARNING,
                         host=host_of(url), error=type(exc).__name__)
            return False
        try:
            with transaction(self._sessions) as session:
                _store_ping(session, now)
        except SQLAlchemyError:
            log.warning("selfwatch.ping_not_recorded", exc_info=True)
        self._change("ok", "selfwatch.heartbeat_ok", logging.INFO, host=host_of(url))
        return True

    def _change(self, state: str, name: str, level: int, **fields: object) -> None:
        if state != self._state:
            self._state = state
            event(log, name, level=level, **fields)
