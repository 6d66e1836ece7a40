"""Ingest benchmark: Alertmanager webhooks at a fixed rate into a real `tocsin serve`.

    .venv/bin/python bench/ingest.py --rate 20 --seconds 10
    .venv/bin/python bench/ingest.py --rate 50 --seconds 10 --duplicates 0.3
    .venv/bin/python bench/ingest.py --db postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/ingest.py --rate 0.5 --alerts 1000 --fields
    .venv/bin/python bench/ingest.py --rate 1 --seconds 1 --alerts 5000 --duplicates 0 \
        --group-by alertname                    # a storm of 5,000 alerts in one group

It starts its own server on a free 127.0.0.1 port with a generated config
(every alert routed to a one-step policy paging the console) and a
temporary SQLite database unless --db is given, sends `rate * seconds`
webhooks of --alerts alerts each, then stops the server and prints
accepted alerts per second, latency percentiles and the server's peak RSS.
Requests are sent on a fixed schedule, not as fast as possible; a request
that starts late because every sender was busy is counted, since it means
the server could not keep up with that rate.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

# Run as a plain script: make the repository root importable for the helper
# that starts `tocsin serve`, shared with the end-to-end tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.server import TocsinServer

KEY = "bench-alertmanager-key"
MAX_REQUESTS = 100_000
MAX_SECONDS = 600

CONFIG = f"""
timezone: UTC
users:
  - {{id: alice, name: Alice}}
schedules:
  - {{name: primary, rotation: daily, start_time: "00:00", participants: [alice]}}
escalation_policies:
  - name: bench
    steps:
      - {{targets: [primary], timeout_minutes: 0}}
routes:
  - {{notify: bench}}
services:
  - {{name: bench, escalation_policy: bench}}
integrations:
  - {{name: prom, type: alertmanager, key: {KEY}, service: bench}}
"""


# --fields: the integration reads four fields through `fields:` paths. The first
# path of each list is absent from the bench's alerts, so every alert walks to
# the next: the dearer case of the mapping.
FIELDS = ("fields: {title: [annotations.headline, annotations.summary], "
          "service: [labels.app, labels.service], runbook_url: annotations.runbook, "
          "severity: [labels.priority, labels.severity]}")


def server_config(fields: bool) -> str:
    return CONFIG.replace("service: bench}", f"service: bench, {FIELDS}}}") if fields else CONFIG


def grouped(config: str, labels: str | None) -> str:
    """--group-by: the route groups its alerts by these comma-separated labels."""
    if not labels:
        return config
    names = ", ".join(label.strip() for label in labels.split(","))
    return config.replace("  - {notify: bench}", f"  - {{notify: bench, group_by: [{names}]}}")


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    late_starts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, status: str, reply: dict[str, Any] | None,
               late: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.late_starts += late
            for alert in (reply or {}).get("alerts", []):
                outcome = alert["outcome"]
                self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class Fingerprints:
    """Fresh fingerprints, or with probability `duplicates` one already sent."""

    def __init__(self, duplicates: float, seed: int) -> None:
        self.duplicates = duplicates
        self.rng = random.Random(seed)
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            if self.sent and self.rng.random() < self.duplicates:
                return self.rng.choice(self.sent)
            fingerprint = uuid.uuid4().hex[:16]
            self.sent.append(fingerprint)
            return fingerprint


def webhook(fingerprints: Fingerprints, count: int, starts: str) -> dict[str, Any]:
    alerts = []
    for _ in range(count):
        fingerprint = fingerprints.next()
        alerts.append({
            "status": "firing", "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z",
            "labels": {"alertname": "BenchAlert", "instance": fingerprint,
                       "severity": "critical"},
            "annotations": {"summary": f"bench alert {fingerprint}"},
            "generatorURL": "http://prometheus.invalid/graph", "fingerprint": fingerprint,
        })
    return {"version": "4", "status": "firing", "receiver": "tocsin", "groupKey": "{}:{}",
            "alerts": alerts}


@dataclass
class Plan:
    url: str
    rate: float
    total: int
    alerts: int
    fingerprints: Fingerprints
    results: Results
    started: float = 0.0
    next_index: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self) -> int | None:
        with self.lock:
            if self.next_index >= self.total:
                return None
            self.next_index += 1
            return self.next_index - 1


def sender(plan: Plan, starts: str) -> None:
    """Send each claimed request at its slot on the fixed-rate schedule."""
    with httpx.Client(timeout=30.0) as client:
        while (index := plan.claim()) is not None:
            due = plan.started + index / plan.rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            body = webhook(plan.fingerprints, plan.alerts, starts)
            began = time.monotonic()
            status, reply = post(client, plan.url, body)
            plan.results.record(time.monotonic() - began, status, reply, late=wait < -0.05)


def post(client: httpx.Client, url: str, body: dict[str, Any]) -> tuple[str, Any]:
    try:
        response = client.post(url, json=body)
    except httpx.HTTPError as exc:
        return type(exc).__name__, None
    reply = response.json() if response.status_code == 200 else None
    return str(response.status_code), reply


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM from /proc: the process's peak resident set size."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time the process has used, from /proc.

    Steadier than latency on a machine shared with other work: it counts the
    server's own work, not its wait for a core.
    """
    try:
        # The fields after the command name, which is in parentheses and may hold spaces.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def run(args: argparse.Namespace, server: TocsinServer) -> tuple[Results, float]:
    results = Results()
    plan = Plan(url=server.url(f"/integrations/{KEY}/alertmanager"), rate=args.rate,
                total=round(args.rate * args.seconds), alerts=args.alerts,
                fingerprints=Fingerprints(args.duplicates, args.seed), results=results)
    starts = datetime.now(UTC).isoformat()
    threads = [threading.Thread(target=sender, args=(plan, starts), daemon=True)
               for _ in range(args.senders)]
    plan.started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 120)
    return results, time.monotonic() - plan.started


def report(args: argparse.Namespace, results: Results, elapsed: float,
           rss: float | None) -> dict[str, Any]:
    ok = results.statuses.get("200", 0)
    accepted = sum(results.outcomes.values())
    ms = [s * 1000 for s in results.latencies]
    return {
        "rate_target": args.rate, "seconds": round(elapsed, 2), "requests": len(ms),
        "requests_ok": ok, "statuses": results.statuses,
        "requests_per_second": round(len(ms) / elapsed, 1),
        "accepted_alerts": accepted, "outcomes": results.outcomes,
        "accepted_alerts_per_second": round(accepted / elapsed, 1),
        "latency_ms_p50": round(percentile(ms, 0.50), 1),
        "latency_ms_p99": round(percentile(ms, 0.99), 1),
        "latency_ms_max": round(max(ms), 1) if ms else None,
        "late_starts": results.late_starts,
        "server_peak_rss_mib": round(rss, 1) if rss is not None else None,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send")
    parser.add_argument("--alerts", type=int, default=10, help="alerts per request")
    parser.add_argument("--duplicates", type=float, default=0.3,
                        help="share of alerts that repeat an earlier fingerprint (0..1)")
    parser.add_argument("--senders", type=int, default=8, help="sending threads")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--log-dir", type=Path,
                        help="keep the server's stdout and stderr here (default: discarded)")
    parser.add_argument("--seed", type=int, default=1, help="seed for duplicate choice")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--fields", action="store_true",
                        help="map four fields through the integration's fields: paths")
    parser.add_argument("--group-by", metavar="LABELS",
                        help="group the route's alerts by these labels, e.g. alertname "
                             "(every bench alert has the same one: a storm in one group)")
    args = parser.parse_args(argv)
    if not 0 < args.rate * args.seconds <= MAX_REQUESTS or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"keep rate*seconds within 1..{MAX_REQUESTS} and seconds <= {MAX_SECONDS}")
    if not 0 <= args.duplicates <= 1 or args.alerts < 1 or args.senders < 1:
        parser.error("--duplicates is a share in 0..1; --alerts and --senders are >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        directory = Path(tmp)
        config_path = directory / "tocsin.yaml"
        config_path.write_text(grouped(server_config(args.fields), args.group_by),
                               encoding="utf-8")
        db_url = args.db or f"sqlite:///{directory / 'tocsin.db'}"
        server = TocsinServer(config_path, db_url, args.log_dir or directory / "logs")
        server.start()
        try:
            cpu_before = cpu_seconds(server.pid)
            results, elapsed = run(args, server)
            cpu_after = cpu_seconds(server.pid)
            rss = peak_rss_mib(server.pid)
        finally:
            server.stop()
    summary = report(args, results, elapsed, rss)
    if cpu_before is not None and cpu_after is not None and summary["accepted_alerts"]:
        # Includes the engine paging every new alert on the console, in the same process.
        summary["server_cpu_us_per_alert"] = round(
            (cpu_after - cpu_before) / summary["accepted_alerts"] * 1e6)
    if args.json:
        print(json.dumps(summary))
    else:
        for name, value in summary.items():
            print(f"{name:28} {value}")
    return 0 if summary["requests_ok"] == summary["requests"] else 1


if __name__ == "__main__":
    sys.exit(main())
