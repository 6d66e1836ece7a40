"""A whole Tocsin process whose notifiers are the real ones its config names.

`Harness` swaps every channel for an in-memory fake; this one keeps
`build_notifiers`, so a page to an e-mail or SMS contact goes out over SMTP
or HTTP to the test's own server on 127.0.0.1. The clock is still fake and
the engine still runs only when the test says `advance`.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from sqlalchemy import select

from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.engine.runtime import build_runtime
from tocsin.notify import store as outbox


class LiveHarness(Harness):
    def __init__(self, tmp_path: Path, db_url: str, clock: FakeClock, config_yaml: str) -> None:
        self.config_path = tmp_path / "tocsin.yaml"
        self.config_path.write_text(textwrap.dedent(config_yaml), encoding="utf-8")
        self.clock = clock
        self.channels = {}
        self.console = io.StringIO()
        self.runtime = build_runtime(config_path=self.config_path, db_url=db_url, clock=clock,
                                     console_stream=self.console)

    def deliveries(self, alert_id: int) -> list[tuple[str, str, str | None]]:
        """(channel, status, provider id) of the alert's deliveries, console left out."""
        with self.runtime.sessions() as session:
            rows = session.scalars(select(outbox.Delivery)
                                   .where(outbox.Delivery.alert_id == alert_id,
                                          outbox.Delivery.channel != "console")
                                   .order_by(outbox.Delivery.id))
            return [(row.channel, row.status, row.provider_id) for row in rows]
