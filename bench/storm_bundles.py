"""Storm bundling benchmark: what a storm costs the engine, bundled or not.

Stores ALERTS new alerts on one route through the batch ingest path (webhooks
of 500), two people on call, then times one engine pass: every escalation
step, and each page (console and webhook, for each person) either sorted
into bundles (`storm: {alerts_per_minute: 20}`) or sent one by one to an
in-memory channel (`storm: off`). It also times the count the engine runs
at the start of each pass with those alerts in the last minute. Runs on a
fresh SQLite file, and on a throwaway PostgreSQL database when one is
reachable.

Run from the repository root: `.venv/bin/python bench/storm_bundles.py [--alerts N]`
(`--count-only N` times the count alone, with N alerts in the last minute).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from tests.support.harness import Harness

from tocsin.alerts.batch import ingest_batch
from tocsin.alerts.rules import IncomingEvent
from tocsin.clock import FakeClock
from tocsin.db import make_engine, transaction
from tocsin.engine.storms import StormWatch
from tocsin.migrate import upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CONFIG = """
timezone: UTC
users:
  - {id: alice, contacts: {webhook: "http://hooks.test/alice"}}
  - {id: bob, contacts: {webhook: "http://hooks.test/bob"}}
notifications:
  webhook: {secret: bench-secret}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice, bob], timeout_minutes: 5}
routes:
  - {match: {service: payment}, notify: critical}
storm: STORM
"""


def database(kind: str) -> tuple[str, str | None]:
    """A migrated, empty database URL, and the PostgreSQL database to drop after."""
    if kind == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        name = None
    else:
        name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url, name


def drop(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(kind: str, storm: str, alerts: int, *, engine: bool = True) -> dict[str, float]:
    url, name = database(kind)
    clock = FakeClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    harness = Harness(Path(tempfile.mkdtemp()), url, clock,
                      textwrap.dedent(CONFIG).replace("STORM", storm))
    try:
        integration = harness.config.integrations[0]
        started = time.perf_counter()
        for first in range(0, alerts, 500):
            events = [IncomingEvent("trigger", f"k-{n}", title="HighErrorRate", severity="critical",
                                    labels={"alertname": "HighErrorRate"})
                      for n in range(first, min(first + 500, alerts))]
            with transaction(harness.runtime.sessions) as session:
                ingest_batch(session, config=harness.config, integration=integration,
                             events=events, now=clock.now())
        stored = time.perf_counter() - started
        watch = StormWatch(sessions=harness.runtime.sessions, config=lambda: harness.config,
                           clock=clock)
        started = time.perf_counter()
        watch.refresh()
        count = time.perf_counter() - started
        if not engine:
            return {"store": stored, "count": count}
        started = time.perf_counter()
        harness.runtime.engine.run_due()
        engine_pass = time.perf_counter() - started
        pages = sum(len(fake.sent) for fake in harness.channels.values())
        bundles = sum(len(fake.bundles) for fake in harness.channels.values())
        return {"store": stored, "count": count, "pass": engine_pass, "pages": pages,
                "bundles": bundles}
    finally:
        harness.close()
        drop(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--count-only", type=int, metavar="N",
                        help="only time the count with N alerts in the last minute")
    args = parser.parse_args(argv)
    for kind in args.backends.split(","):
        if args.count_only:
            found = run(kind, "{alerts_per_minute: 20}", args.count_only, engine=False)
            print(f"{kind:10} count of the last minute with {args.count_only} alerts: "
                  f"{found['count'] * 1000:.0f} ms")
            continue
        for storm in ("{alerts_per_minute: 20}", "off"):
            found = run(kind, storm, args.alerts)
            print(f"{kind:10} storm: {storm:24} {args.alerts} alerts stored in "
                  f"{found['store']:.1f} s; count of the last minute "
                  f"{found['count'] * 1000:.0f} ms; engine pass {found['pass']:.1f} s: "
                  f"{found['pages']:.0f} single pages, {found['bundles']:.0f} bundles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
