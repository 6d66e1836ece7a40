"""Page latency benchmark: from an alert's 2xx to its page reaching the provider.

Starts `tocsin serve` on a free 127.0.0.1 port (the engine on the real
clock) with a config whose policy pages alice through the `webhook` channel
to a receiver on 127.0.0.1 in this process, which notes when each page
arrives. Alerts go to the generic integration, one per request, each a new
dedup key, on a fixed schedule (open loop, as bench/ingest.py). For each
alert the latency runs from the moment its 202 came back to the first
request at the receiver that lists it.

Two phases, on two routes of one server (a storm is counted per route):

- steady: `--rate` alerts a second for `--seconds`, on a route whose storm
  limit (`alerts_per_minute: 100000`) the rate never reaches, so every
  alert is paged on its own;
- storm: `--storm-alerts` alerts in `--storm-seconds` on a route with the
  default limit (20 a minute). Once the engine's count sees the storm, a
  person's pages go in one bundle a minute by design, so most latencies are
  the wait for the next bundle: what alice sees is the first page or bundle
  that lists the alert, and that is what is reported, with how many came
  singly and how many in bundles.

Run from the repository root (about two minutes with the defaults):

    .venv/bin/python bench/page_latency.py --db sqlite
    .venv/bin/python bench/page_latency.py --db postgres       # a throwaway database
    .venv/bin/python bench/page_latency.py --rate 50 --seconds 20 --storm-alerts 0
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.page_receiver import Arrival, PageReceiver
from bench.storm_bundles import database, drop
from tests.support.server import TocsinServer

KEY = "bench-generic-key"
WAIT_SECONDS = 150  # a storm's last bundle goes a minute after the one before
CONFIG = f"""
timezone: UTC
users:
  - {{id: alice, name: Alice, contacts: {{webhook: "RECEIVER/alice"}}}}
notifications:
  webhook: {{secret: bench-secret}}
integrations:
  - {{name: bench, type: generic, key: {KEY}, service: bench}}
services:
  - {{name: bench}}
escalation_policies:
  - name: bench
    steps:
      - {{targets: [alice], timeout_minutes: 30}}
routes:
  - {{match: {{phase: storm}}, notify: bench}}
  - {{notify: bench, storm: {{alerts_per_minute: 100000}}}}
"""


@dataclass
class Sent:
    """The 2xx time of each alert, by alert id; failures by status."""

    accepted: dict[int, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    late_starts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def send(url: str, phase: str, total: int, rate: float, senders: int) -> Sent:
    """Post `total` generic alerts at `rate` a second from `senders` threads."""
    sent = Sent()
    indexes = iter(range(total))
    claim = threading.Lock()
    started = time.monotonic()

    def sender() -> None:
        with httpx.Client(timeout=30.0) as client:
            while True:
                with claim:
                    index = next(indexes, None)
                if index is None:
                    return
                wait = started + index / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                body = {"summary": f"{phase} alert {index}", "severity": "critical",
                        "dedup_key": f"{phase}-{index}", "labels": {"phase": phase}}
                try:
                    response = client.post(url, json=body)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                else:
                    status = str(response.status_code)
                done = time.monotonic()
                with sent.lock:
                    sent.late_starts += wait < -0.05
                    if status.startswith("2"):
                        for alert in response.json()["alerts"]:
                            sent.accepted[int(alert["id"])] = done
                    else:
                        sent.failures[status] = sent.failures.get(status, 0) + 1

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


def first_seen(arrivals: list[Arrival]) -> dict[int, tuple[float, str]]:
    """For each alert id, when the first request listing it arrived, and its kind."""
    seen: dict[int, tuple[float, str]] = {}
    for arrival in sorted(arrivals, key=lambda a: a.at):
        for alert_id in arrival.alert_ids:
            seen.setdefault(alert_id, (arrival.at, arrival.kind))
    return seen


def wait_for_pages(receiver: PageReceiver, ids: set[int]) -> dict[int, tuple[float, str]]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        seen = first_seen(receiver.arrivals())
        if ids <= seen.keys() or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def row(phase: str, sent: Sent, seen: dict[int, tuple[float, str]]) -> str:
    latencies = sorted(seen[i][0] - at for i, at in sent.accepted.items() if i in seen)
    kinds: dict[str, int] = {}
    for alert_id in sent.accepted:
        kind = seen[alert_id][1] if alert_id in seen else "missing"
        kinds[kind] = kinds.get(kind, 0) + 1
    how = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    if not latencies:
        return f"{phase:8} {len(sent.accepted):6}  no page arrived ({how})"
    figures = " ".join(f"{percentile(latencies, share) * 1000:8.0f}"
                       for share in (0.50, 0.95, 0.99, 1.0))
    failed = f"; not accepted: {sent.failures}" if sent.failures else ""
    late = f"; {sent.late_starts} sent late" if sent.late_starts else ""
    return f"{phase:8} {len(sent.accepted):6} {figures}   {how}{failed}{late}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "postgresql"), default="sqlite",
                        help="SQLite in a temporary folder, or a throwaway PostgreSQL "
                             "database on 127.0.0.1:5432")
    parser.add_argument("--rate", type=float, default=20.0, help="steady alerts a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the steady load")
    parser.add_argument("--storm-alerts", type=int, default=1000, help="0: no storm phase")
    parser.add_argument("--storm-seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=16, help="sending threads")
    parser.add_argument("--log-dir", type=Path, help="keep the server's logs here")
    args = parser.parse_args(argv)
    steady = round(args.rate * args.seconds)
    if not 0 < steady <= 20_000 or not 0 <= args.storm_alerts <= 20_000:
        parser.error("keep rate*seconds within 1..20000 and --storm-alerts within 0..20000")
    kind = "sqlite" if args.db == "sqlite" else "postgresql"
    url, name = database(kind)
    try:
        with tempfile.TemporaryDirectory(prefix="tocsin-latency-") as tmp, \
                PageReceiver() as receiver:
            folder = Path(tmp)
            config_path = folder / "tocsin.yaml"
            config_path.write_text(CONFIG.replace("RECEIVER", receiver.url("")),
                                   encoding="utf-8")
            server = TocsinServer(config_path, url, args.log_dir or folder / "logs")
            server.start()
            try:
                endpoint = server.url(f"/integrations/{KEY}/generic")
                results = [("steady", send(endpoint, "steady", steady, args.rate,
                                           args.senders))]
                if args.storm_alerts:
                    results.append(("storm", send(endpoint, "storm", args.storm_alerts,
                                                  args.storm_alerts / args.storm_seconds,
                                                  args.senders)))
                ids = {i for _, sent in results for i in sent.accepted}
                seen = wait_for_pages(receiver, ids)
            finally:
                server.stop()
    finally:
        drop(name)
    print(f"page latency on {kind}, from the alert's 2xx to the first page or bundle "
          "listing it, ms")
    print(f"{'phase':8} {'alerts':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   "
          "how it arrived")
    for phase, sent in results:
        print(row(phase, sent, seen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
