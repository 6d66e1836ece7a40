"""A whole Tocsin process in a test: real database, fake clock, fake channels.

Scenario tests seed a config, fire alerts, move the clock and look at the
pages the fake channels received. The engine runs only when the test says
`advance`, so nothing depends on sleeping.
"""

from __future__ import annotations

import math
import textwrap
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tocsin.alerts import service
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.clock import FakeClock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime, build_runtime
from tocsin.notify.base import DeliveryOutcome, Notice, Page
from tocsin.notify.bundles import BundlePage


@dataclass
class FakeChannel:
    """An in-memory channel: records every page, fails when told to."""

    channel: str
    clock: FakeClock
    sent: list[Page] = field(default_factory=list)
    minutes: list[float] = field(default_factory=list)
    failures: list[DeliveryOutcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    notices: list[Notice] = field(default_factory=list)
    notice_times: list[datetime] = field(default_factory=list)
    bundles: list[BundlePage] = field(default_factory=list)
    bundle_times: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start = self.clock.now()

    def send(self, page: Page) -> DeliveryOutcome:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.sent.append(page)
            elapsed = self.clock.now() - self.start
            self.minutes.append(round(elapsed.total_seconds() / 60, 3))
            return DeliveryOutcome(ok=True, detail="fake delivered")

    def send_notice(self, notice: Notice) -> DeliveryOutcome:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.notices.append(notice)
            self.notice_times.append(self.clock.now())
            return DeliveryOutcome(ok=True, detail="fake delivered")

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.bundles.append(page)
            self.bundle_times.append(self.clock.now())
            return DeliveryOutcome(ok=True, detail="fake delivered")

    def fail_next(self, count: int, *, retryable: bool = True) -> None:
        self.failures.extend(
            DeliveryOutcome(ok=False, retryable=retryable, detail="fake failure")
            for _ in range(count)
        )


class Harness:
    def __init__(self, tmp_path: Path, db_url: str, clock: FakeClock, config_yaml: str) -> None:
        self.config_path = tmp_path / "tocsin.yaml"
        self.config_path.write_text(textwrap.dedent(config_yaml), encoding="utf-8")
        self.clock = clock
        self.channels = {name: FakeChannel(name, clock)
                         for name in ("console", "webhook", "slack", "sms", "phone", "email")}
        self.runtime: Runtime = build_runtime(
            config_path=self.config_path, db_url=db_url, clock=clock,
            notifiers=lambda _config: dict(self.channels),
        )

    @property
    def config(self) -> Config:
        return self.runtime.config_now()

    def fire(self, dedup_key: str, *, integration: str = "prom", action: str = "trigger",
             **fields: Any) -> int | None:
        found = next(i for i in self.config.integrations if i.name == integration)
        incoming = IncomingEvent(action=action, dedup_key=dedup_key,  # type: ignore[arg-type]
                                 title=fields.pop("title", f"alert {dedup_key}"), **fields)
        with transaction(self.runtime.sessions) as session:
            result = service.ingest(session, config=self.config, integration=found,
                                    incoming=incoming, now=self.clock.now())
        self.runtime.engine.run_due()
        return result.alert_id

    def advance(self, minutes: float) -> None:
        """Move the clock minute by minute, running the engine at each minute that has
        work: the first one, and each where work falls due or a full pass is owed.

        The minutes between, where a pass would only record shifts (`Engine._quiet`),
        are stepped over: the engine's own loop sleeps through them too, until the
        earliest due time. Shifts are then recorded at the next pass, in one piece.
        """
        engine = self.runtime.engine
        whole, rest = divmod(minutes, 1)
        left = int(whole)
        step = 1  # the first minute always runs: the test may have just changed something
        while left > 0:
            step = min(step, left)
            self.clock.advance(minutes=step)
            left -= step
            engine.run_due()
            quiet = engine.quiet_until()
            ahead = 1 if quiet is None else (quiet - self.clock.now()) / timedelta(minutes=1)
            step = max(1, math.ceil(ahead))
        if rest:
            self.clock.advance(minutes=rest)
            self.runtime.engine.run_due()

    def ack(self, alert_id: int, actor: str = "alice") -> None:
        with transaction(self.runtime.sessions) as session:
            service.acknowledge(session, config=self.config, alert_id=alert_id, actor=actor,
                                surface="api", now=self.clock.now())
        self.runtime.engine.run_due()

    def resolve(self, alert_id: int, actor: str = "alice") -> None:
        with transaction(self.runtime.sessions) as session:
            service.resolve(session, config=self.config, alert_id=alert_id, actor=actor,
                            surface="api", now=self.clock.now())
        self.runtime.engine.run_due()

    def paged(self, channel: str = "webhook") -> list[tuple[float, str, int]]:
        """(minute since the test began, user, step) of every page, in order."""
        fake = self.channels[channel]
        return [(minute, page.user_id, page.step)
                for minute, page in zip(fake.minutes, fake.sent, strict=True)]

    def alert(self, alert_id: int) -> Alert:
        with self.runtime.sessions() as session:
            return service.get_alert(session, alert_id)

    def timeline(self, alert_id: int) -> list[str]:
        with self.runtime.sessions() as session:
            rows = session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                                   .order_by(AlertEvent.id))
            return [f"{row.kind}: {row.message}" for row in rows]

    def close(self) -> None:
        self.runtime.engine.stop()
        self.runtime.db.dispose()
