"""Mass escalation benchmark: N alerts whose second step comes due at one instant.

Stores N new alerts (webhooks of 500, through the batch ingest path) on a
route whose policy pages alice at step 1 and bob at step 2 five minutes
later, each through the `webhook` channel to a receiver on 127.0.0.1 in a
child process. The engine is Tocsin's own (`build_runtime`: real webhook
and console senders, the engine's default batch and sender pool) on a fake
clock that the script moves. One engine pass sends step 1; the clock then
moves five minutes and one pass (`Engine.run_due`) is timed until every
step-2 page has reached the receiver over HTTP. The issue's target: 6,000
in under 10 seconds.

`--engines N` (PostgreSQL only) runs the timed pass in N engine processes at
once on the same database, as `tocsin serve` with `tocsin worker`s would:
N - 1 child processes build the same runtime on the same fake instant and
start their pass together with this one; timers are claimed with `FOR UPDATE
SKIP LOCKED` and pages with leases, so each step still runs once. The CPU
column is then the busiest process's, the statements this process's.

`storm: off`: N alerts stored in a minute are a storm, whose pages go in
bundles (bench/storm_bundles.py times those); this measures single pages.
Each page also has its console copy, as in production. The statements the
database ran in the timed pass are counted (SQLAlchemy events).

Run from the repository root:

    .venv/bin/python bench/escalations_due.py                  # SQLite and PostgreSQL
    .venv/bin/python bench/escalations_due.py --db sqlite --alerts 1000 --profile
    .venv/bin/python bench/escalations_due.py --db postgresql --engines 2
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import sys
import tempfile
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.page_receiver import ReceiverProcess
from bench.storm_bundles import database, drop
from sqlalchemy import event

from tocsin.alerts.batch import ingest_batch
from tocsin.alerts.rules import IncomingEvent
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.engine.runtime import build_runtime

CONFIG = """
timezone: UTC
users:
  - {id: alice, contacts: {webhook: "RECEIVER/alice"}}
  - {id: bob, contacts: {webhook: "RECEIVER/bob"}}
notifications:
  webhook: {secret: bench-secret}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 5}
routes:
  - {notify: critical}
storm: off
"""
WAIT_SECONDS = 600


class Statements:
    """Counts the statements a database engine runs while `counting` is set."""

    def __init__(self, db: Any) -> None:
        self.counting = False
        self.kinds: Counter[str] = Counter()
        event.listen(db, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.counting:
            self.kinds[statement.lstrip().split(None, 1)[0].upper()] += 1
            if os.environ.get("BENCH_SQL"):
                self.kinds[statement[:70]] += 1

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def wait_for(receiver: ReceiverProcess, count: int) -> float:
    """Poll until `count` requests have arrived; the monotonic time of the last one."""
    deadline = time.monotonic() + WAIT_SECONDS
    while receiver.count() < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {receiver.count()} of {count} pages arrived")
        time.sleep(0.01)
    return max(arrival.at for arrival in receiver.arrivals())


def second_engine(url: str, config_path: str, at: datetime, ready: Any, go: Any,
                  results: Any) -> None:
    """A child process: one more engine on the same database and instant, whose pass
    starts when `go` is set; puts its (pass seconds, CPU seconds) on `results`."""
    with open(os.devnull, "w") as console:
        runtime = build_runtime(config_path=Path(config_path), db_url=url,
                                clock=FakeClock(at), console_stream=console)
        try:
            ready.set()
            go.wait()
            started, cpu = time.monotonic(), time.process_time()
            runtime.engine.run_due()
            results.put((time.monotonic() - started, time.process_time() - cpu))
        finally:
            runtime.engine.stop()
            runtime.db.dispose()


def start_engines(count: int, url: str, config_path: Path, at: datetime,
                  ) -> tuple[list[Any], Any, Any]:
    """`count` child engines, each ready to start its pass at `go`."""
    spawn = multiprocessing.get_context("spawn")
    go, results = spawn.Event(), spawn.Queue()
    children = []
    for _ in range(count):
        ready = spawn.Event()
        child = spawn.Process(target=second_engine,
                              args=(url, str(config_path), at, ready, go, results))
        child.start()
        children.append((child, ready))
    for _child, ready in children:
        if not ready.wait(120):
            raise RuntimeError("a second engine process did not start in 120 s")
    return [child for child, _ in children], go, results


def run(kind: str, alerts: int, profile: bool, engines: int = 1) -> dict[str, Any]:
    url, name = database(kind)
    folder = Path(tempfile.mkdtemp(prefix="tocsin-escalations-"))
    clock = FakeClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    with ReceiverProcess() as receiver, open(os.devnull, "w") as console:
        config_path = folder / "tocsin.yaml"
        config_path.write_text(textwrap.dedent(CONFIG).replace("RECEIVER", receiver.url("")),
                               encoding="utf-8")
        runtime = build_runtime(config_path=config_path, db_url=url, clock=clock,
                                console_stream=console)
        try:
            integration = runtime.config_now().integrations[0]
            for first in range(0, alerts, 500):
                events = [IncomingEvent("trigger", f"k-{n}", title="HighErrorRate",
                                        severity="critical", labels={"alertname": "HighErrorRate"})
                          for n in range(first, min(first + 500, alerts))]
                with transaction(runtime.sessions) as session:
                    ingest_batch(session, config=runtime.config_now(), integration=integration,
                                 events=events, now=clock.now())
            started = time.monotonic()
            runtime.engine.run_due()
            step_one = wait_for(receiver, alerts) - started

            statements = Statements(runtime.db)
            clock.advance(minutes=5)
            children, go, results = start_engines(engines - 1, url, config_path, clock.now())
            profiler = cProfile.Profile() if profile else None
            statements.counting = True
            started, cpu = time.monotonic(), time.process_time()
            if profiler is not None:
                profiler.enable()
            go.set()
            runtime.engine.run_due()
            passed, cpu = time.monotonic() - started, time.process_time() - cpu
            for _ in children:
                child_pass, child_cpu = results.get(timeout=WAIT_SECONDS)
                passed, cpu = max(passed, child_pass), max(cpu, child_cpu)
            for child in children:
                child.join(30)
            if profiler is not None:
                profiler.disable()
            statements.counting = False
            last = wait_for(receiver, 2 * alerts)
            step_two = last - started
            bob = [a for a in receiver.arrivals() if a.path == "/bob" and a.step == 2]
            if profiler is not None:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            return {"step_one": step_one, "step_two": step_two, "pass": passed,
                    "pages": len({a.alert_ids for a in bob}), "cpu": cpu,
                    "statements": statements.total,
                    "kinds": dict(statements.kinds)}
        finally:
            runtime.engine.stop()
            runtime.db.dispose()
            drop(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=6000)
    parser.add_argument("--db", default="sqlite,postgresql",
                        help="sqlite, postgresql (a throwaway database on 127.0.0.1:5432), "
                             "or both, comma-separated")
    parser.add_argument("--engines", type=int, default=1,
                        help="engine processes sharing the timed pass (PostgreSQL only)")
    parser.add_argument("--profile", action="store_true",
                        help="print the timed pass's cProfile, 30 dearest calls")
    args = parser.parse_args(argv)
    if not 1 <= args.alerts <= 50_000:
        parser.error("--alerts is 1..50000")
    if not 1 <= args.engines <= 8:
        parser.error("--engines is 1..8")
    if args.engines > 1 and "sqlite" in args.db:
        parser.error("--engines above 1 needs --db postgresql: one process owns a SQLite file")
    print(f"{'database':10} {'alerts':>6} {'step 1 s':>8} {'step 2 s':>8} {'pass s':>7} "
          f"{'pages/s':>8} {'cpu s':>6} {'stmts/page':>10}")
    for kind in args.db.split(","):
        kind = "postgresql" if kind.startswith("postgres") else kind
        found = run(kind, args.alerts, args.profile, args.engines)
        print(f"{kind:10} {args.alerts:6} {found['step_one']:8.1f} {found['step_two']:8.1f} "
              f"{found['pass']:7.1f} {found['pages'] / found['step_two']:8.0f} "
              f"{found['cpu']:6.1f} "
              f"{found['statements'] / max(found['pages'], 1):10.1f}"
              f"   {found['kinds']}")
        if found["pages"] != args.alerts:
            print(f"  only {found['pages']} of {args.alerts} step-2 pages reached the receiver")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
