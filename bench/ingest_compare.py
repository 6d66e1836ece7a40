"""Ingest under load: Tocsin on SQLite and on PostgreSQL beside Prometheus Alertmanager.

    .venv/bin/python bench/ingest_compare.py                 # everything, full size (~10 min)
    .venv/bin/python bench/ingest_compare.py --scale 0.2     # every count and duration x0.2
    .venv/bin/python bench/ingest_compare.py --only rate max --backends sqlite

Each run gets a fresh `tocsin serve` (a temporary SQLite file, or a throwaway
database on PostgreSQL at 127.0.0.1:5432, user postgres, dropped afterwards)
and a fresh `prometheus-alertmanager` (cluster off, storage in a temporary
directory, a receiver that sends nothing), all on free 127.0.0.1 ports. The
same alerts go to Tocsin's Alertmanager webhook and to Alertmanager's own
`POST /api/v2/alerts`.

    rate   webhooks at a fixed arrival rate, with 10%, 50% and 90% duplicates
    storm  50,000 new alerts in 60 seconds, in webhooks of --storm-batch alerts
    poll   the rate run at 50% duplicates while 25 clients poll GET /api/v1/alerts
    max    as fast as --senders threads go: Tocsin's throughput / Alertmanager's

Latency is from each request's scheduled send time (see loadgen.py). Every
figure is printed; nothing is judged. The load generator shares the machine
with the servers, so on a small machine it takes CPU from them: read the
figures as what this machine did, with `cpu` (server process, cores) and
`busy` (whole machine) beside them.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from loadgen import Outcome, Poller, Request, Target, closed_loop, open_loop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ingest import CONFIG as SERVER_CONFIG
from ingest import KEY
from tests.support.server import TocsinServer, free_port, wait_until

TOKEN = uuid.uuid4().hex  # the pollers' read token, new each run
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ALERTMANAGER = "prometheus-alertmanager"
DUPLICATES = (0.1, 0.5, 0.9)

# bench/ingest.py's server config, plus a read token for the pollers.
CONFIG = SERVER_CONFIG + f"""\
api_tokens:
  - {{name: poll, token: {TOKEN}, user: alice, scope: read}}
"""

# A route to a receiver with no integrations: Alertmanager stores and groups
# the alerts and sends nothing, so only its ingest is measured.
ALERTMANAGER_CONFIG = """
route: {receiver: nowhere, group_by: [alertname], group_wait: 30s}
receivers: [{name: nowhere}]
"""


# -- the alert stream -----------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """The same alerts, as Tocsin's webhook bodies and as Alertmanager API bodies."""

    tocsin: list[Request]
    alertmanager: list[Request]


def make_stream(webhooks: int, per_webhook: int, duplicates: float, seed: int) -> Stream:
    """`webhooks` bodies of `per_webhook` alerts; a share `duplicates` repeat an earlier one.

    Like Alertmanager's, a body never names one alert twice.
    """
    rng = random.Random(seed)
    starts = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    sent: list[str] = []
    tocsin, alertmanager = [], []
    for _ in range(webhooks):
        chosen: list[str] = []
        while len(chosen) < per_webhook:
            if sent and rng.random() < duplicates and len(sent) > 2 * per_webhook:
                fingerprint = rng.choice(sent)
                if fingerprint in chosen:
                    continue
            else:
                fingerprint = f"{rng.getrandbits(64):016x}"
                sent.append(fingerprint)
            chosen.append(fingerprint)
        alerts = [_alert(fingerprint, starts) for fingerprint in chosen]
        tocsin.append(Request(json.dumps(_webhook(alerts, starts, chosen)).encode(), len(alerts)))
        alertmanager.append(Request(json.dumps(alerts).encode(), len(alerts)))
    return Stream(tocsin, alertmanager)


def _alert(fingerprint: str, starts: str) -> dict[str, Any]:
    return {
        "labels": {"alertname": "BenchAlert", "instance": f"node-{fingerprint}:9100",
                   "severity": "critical", "service": "bench"},
        "annotations": {"summary": f"node-{fingerprint} is down",
                        "description": "has not answered scrapes for 5 minutes"},
        "startsAt": starts, "generatorURL": "http://prometheus.invalid/graph?g0.expr=up",
    }


def _webhook(alerts: list[dict[str, Any]], starts: str, fingerprints: list[str],
             ) -> dict[str, Any]:
    items = [{**alert, "status": "firing", "endsAt": "0001-01-01T00:00:00Z",
              "fingerprint": fingerprint} for alert, fingerprint in zip(alerts, fingerprints,
                                                                         strict=True)]
    return {"version": "4", "status": "firing", "receiver": "tocsin",
            "groupKey": "{}:{alertname=\"BenchAlert\"}", "truncatedAlerts": 0,
            "groupLabels": {"alertname": "BenchAlert"}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.invalid",
            "alerts": items}


# -- the servers ------------------------------------------------------------------------


@contextmanager
def tocsin(backend: str, workdir: Path) -> Iterator[Target]:
    """A fresh `tocsin serve` on `backend` (sqlite or postgresql)."""
    run = workdir / f"tocsin-{uuid.uuid4().hex[:8]}"
    run.mkdir()
    config = run / "tocsin.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with _database(backend, run) as url:
        server = TocsinServer(config, url, run / "logs")
        server.start()
        try:
            yield Target(f"tocsin/{backend}", server.port,
                         f"/integrations/{KEY}/alertmanager", pid=server.pid)
        finally:
            server.stop()


@contextmanager
def _database(backend: str, run: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{run / 'tocsin.db'}"
        return
    name = f"tocsin_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def alertmanager(workdir: Path) -> Iterator[Target]:
    """A fresh Prometheus Alertmanager, clustering off, that notifies nobody."""
    run = workdir / f"alertmanager-{uuid.uuid4().hex[:8]}"
    (run / "data").mkdir(parents=True)
    (run / "alertmanager.yml").write_text(textwrap.dedent(ALERTMANAGER_CONFIG), "utf-8")
    port = free_port()
    command = [ALERTMANAGER, f"--config.file={run / 'alertmanager.yml'}",
               f"--storage.path={run / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
               "--cluster.listen-address=", "--log.level=warn"]
    with open(run / "alertmanager.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: _ready(process, port), timeout=20, message="Alertmanager /-/ready")
        yield Target("alertmanager", port, "/api/v2/alerts", pid=process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _ready(process: subprocess.Popen[bytes], port: int) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"{ALERTMANAGER} exited with {process.returncode}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def server(name: str, workdir: Path) -> Iterator[Target]:
    if name == "alertmanager":
        with alertmanager(workdir) as target:
            yield target
    else:
        with tocsin(name, workdir) as target:
            yield target


# -- scenarios ------------------------------------------------------------------------


def row(scenario: str, target: Target, outcome: Outcome, **extra: Any) -> dict[str, Any]:
    failed = sum(n for status, n in outcome.statuses.items() if not status.startswith("2"))
    found = {
        "scenario": scenario, "target": target.name, **extra,
        "requests": sum(outcome.statuses.values()), "failed": failed,
        "alerts_per_s": round(outcome.accepted / outcome.elapsed),
        "p50_ms": round(outcome.percentile(0.50), 1),
        "p99_ms": round(outcome.percentile(0.99), 1),
        "p999_ms": round(outcome.percentile(0.999), 1),
        "max_ms": round(max(outcome.latencies, default=0) * 1000, 1),
        "cpu": round(outcome.server_cpu / outcome.elapsed, 2)
        if outcome.server_cpu is not None else None,
        "busy": round(outcome.machine_busy, 2) if outcome.machine_busy is not None else None,
    }
    print_row(found)
    return found


def print_row(found: dict[str, Any]) -> None:
    extra = " ".join(f"{k}={v}" for k, v in found.items() if k not in COLUMNS)
    print(f"{found['scenario']:6} {found['target']:18} {found['alerts_per_s']:>8} "
          f"{found['p50_ms']:>8} {found['p99_ms']:>8} {found['p999_ms']:>8} "
          f"{found['max_ms']:>8} {found['failed']:>6} {found['cpu']!s:>5} "
          f"{found['busy']!s:>5}  {extra}", flush=True)


COLUMNS = ("scenario", "target", "alerts_per_s", "p50_ms", "p99_ms", "p999_ms", "max_ms",
           "failed", "cpu", "busy", "requests")
HEADER = (f"{'run':6} {'target':18} {'alerts/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'p99.9 ms':>8} {'max ms':>8} {'failed':>6} {'cpu':>5} {'busy':>5}")


def rate_runs(args: argparse.Namespace, targets: list[str], work: Path) -> list[dict[str, Any]]:
    rows = []
    webhooks = max(1, round(args.rate * args.seconds * args.scale))
    for share in DUPLICATES:
        stream = make_stream(webhooks, args.alerts, share, seed=int(share * 100))
        for name in targets:
            with server(name, work) as target:
                outcome = open_loop(target, _bodies(stream, name), args.rate, args.senders)
            rows.append(row("rate", target, outcome, duplicates=share,
                            offered=round(args.rate * args.alerts)))
    return rows


def storm_runs(args: argparse.Namespace, targets: list[str], work: Path) -> list[dict[str, Any]]:
    rows = []
    alerts, seconds = round(50_000 * args.scale), 60 * args.scale
    webhooks = max(1, alerts // args.storm_batch)
    stream = make_stream(webhooks, args.storm_batch, 0.0, seed=50_000)
    for name in targets:
        with server(name, work) as target:
            outcome = open_loop(target, _bodies(stream, name), webhooks / seconds, args.senders)
        rows.append(row("storm", target, outcome, alerts=webhooks * args.storm_batch,
                        seconds=round(seconds), drained_s=round(outcome.elapsed, 1)))
    return rows


def poll_runs(args: argparse.Namespace, targets: list[str], work: Path) -> list[dict[str, Any]]:
    rows = []
    webhooks = max(1, round(args.rate * args.seconds * args.scale))
    stream = make_stream(webhooks, args.alerts, 0.5, seed=50)
    for name in (t for t in targets if t != "alertmanager"):
        with server(name, work) as target:
            lister = Target(target.name, target.port, "/api/v1/alerts",
                            {"Authorization": f"Bearer {TOKEN}"})
            with Poller(lister, "/api/v1/alerts?limit=100", args.pollers,
                        args.poll_interval) as poller:
                outcome = open_loop(target, stream.tocsin, args.rate, args.senders)
        polls = poller.outcome
        rows.append(row("poll", target, outcome, pollers=args.pollers,
                        poll_p50_ms=round(polls.percentile(0.5), 1),
                        poll_p99_ms=round(polls.percentile(0.99), 1),
                        polls=sum(polls.statuses.values()),
                        poll_failed=sum(n for s, n in polls.statuses.items()
                                        if not s.startswith("2"))))
    return rows


def max_runs(args: argparse.Namespace, targets: list[str], work: Path) -> list[dict[str, Any]]:
    rows = []
    webhooks = max(1, round(args.max_webhooks * args.scale))
    stream = make_stream(webhooks, args.alerts, 0.5, seed=7)
    for name in targets:
        with server(name, work) as target:
            outcome = closed_loop(target, _bodies(stream, name), args.senders)
        rows.append(row("max", target, outcome, senders=args.senders))
    manager = next((r for r in rows if r["target"] == "alertmanager"), None)
    if manager is not None and manager["alerts_per_s"]:
        for found in rows:
            ratio = found["alerts_per_s"] / manager["alerts_per_s"]
            found["ratio_to_alertmanager"] = round(ratio, 3)
            print(f"max    {found['target']:18} throughput / Alertmanager's = {ratio:.3f}")
    return rows


def _bodies(stream: Stream, name: str) -> list[Request]:
    return stream.alertmanager if name == "alertmanager" else stream.tocsin


SCENARIOS = {"rate": rate_runs, "storm": storm_runs, "poll": poll_runs, "max": max_runs}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])
    parser.add_argument("--no-alertmanager", action="store_true",
                        help="leave Alertmanager out (no ratio then)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every count and duration (e.g. 0.2 for a quick run)")
    parser.add_argument("--rate", type=float, default=25.0, help="webhooks a second (rate, poll)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of a rate run")
    parser.add_argument("--alerts", type=int, default=10, help="alerts per webhook")
    parser.add_argument("--storm-batch", type=int, default=100, help="alerts per storm webhook")
    parser.add_argument("--max-webhooks", type=int, default=2000, help="webhooks in a max run")
    parser.add_argument("--senders", type=int, default=32, help="sending threads")
    parser.add_argument("--pollers", type=int, default=25, help="clients polling the list")
    parser.add_argument("--poll-interval", type=float, default=1.0,
                        help="seconds between one client's polls")
    parser.add_argument("--json", type=Path, help="also write every row to this file")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10 or args.rate <= 0 or args.alerts < 1 or args.senders < 1:
        parser.error("--scale in (0, 10]; --rate > 0; --alerts and --senders >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    targets = [*args.backends] + ([] if args.no_alertmanager else ["alertmanager"])
    print(f"targets: {', '.join(targets)}; scale {args.scale}; alerts per webhook "
          f"{args.alerts}; senders {args.senders}")
    print(HEADER)
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tocsin-compare-") as tmp:
        for name in args.only:
            rows += SCENARIOS[name](args, targets, Path(tmp))
    print(f"done in {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
