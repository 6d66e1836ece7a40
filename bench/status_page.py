"""Status page benchmark: requests per second for summary.json and /status/ under updates.

Starts its own `tocsin serve` on a free 127.0.0.1 port (SQLite in a temporary
folder unless --db names PostgreSQL) with --components components in groups of
five, seeds --incidents public incidents with three updates each through the
API, then for --seconds runs --readers threads fetching one path as fast as
they can while one writer posts an update every --update-ms milliseconds. It
prints answers per second, latency percentiles and the updates written.

Run from the repository root:

    .venv/bin/python bench/status_page.py
    .venv/bin/python bench/status_page.py --readers 8 --seconds 10 --components 40
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import TocsinServer

TOKEN = uuid.uuid4().hex  # the writer's token, new each run
PATHS = ("/status/api/v2/summary.json", "/status/")


def config(components: int) -> str:
    rows = "\n".join(f"  - {{name: Component {n}, group: Group {n // 5}, service: svc{n % 3}}}"
                     for n in range(components))
    return f"""timezone: UTC
users:
  - {{id: alice, name: Alice}}
services:
  - {{name: svc0, escalation_policy: p}}
  - {{name: svc1, escalation_policy: p}}
  - {{name: svc2, escalation_policy: p}}
escalation_policies:
  - name: p
    steps: [{{targets: [alice], timeout_minutes: 5}}]
routes:
  - notify: p
api_tokens:
  - {{name: bench, token: {TOKEN}, user: alice, scope: write}}
status_page: {{title: Bench Status}}
components:
{rows}
"""


def call(port: int, method: str, path: str, body: dict[str, Any] | None = None
         ) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def seed(port: int, incidents: int, components: int) -> list[str]:
    keys: list[str] = []
    for n in range(incidents):
        status, data = call(port, "POST", "/api/v1/status/incidents", {
            "name": f"Incident {n}", "impact": "minor", "status": "investigating",
            "body": "Looking.", "components": {f"Component {n % components}": "major_outage"}})
        assert status == 201, data
        key = json.loads(data)["id"]
        for step in ("identified", "resolved"):
            status, data = call(port, "POST", f"/api/v1/status/incidents/{key}/updates",
                                {"status": step, "body": f"{step}."})
            assert status == 201, data
        keys.append(key)
    return keys


def read_loop(port: int, path: str, until: float, latencies: list[float],
              failures: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < until:
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            latencies.append(time.perf_counter() - started)
        else:
            failures.append(response.status)
    connection.close()


def write_loop(port: int, until: float, every: float, components: int, written: list[int]
               ) -> None:
    status, data = call(port, "POST", "/api/v1/status/incidents", {
        "name": "Ongoing", "impact": "major", "status": "investigating", "body": "Looking."})
    key = json.loads(data)["id"]
    states = ("degraded_performance", "partial_outage", "major_outage", "operational")
    n = 0
    while time.perf_counter() < until:
        status, _ = call(port, "POST", f"/api/v1/status/incidents/{key}/updates", {
            "status": "identified", "body": f"Update {n}.",
            "components": {f"Component {n % components}": states[n % len(states)]}})
        written.append(status)
        n += 1
        time.sleep(every)


def measure(port: int, path: str, args: argparse.Namespace) -> dict[str, Any]:
    until = time.perf_counter() + args.seconds
    latencies: list[float] = []
    failures: list[int] = []
    written: list[int] = []
    threads = [threading.Thread(target=read_loop, args=(port, path, until, latencies, failures))
               for _ in range(args.readers)]
    threads.append(threading.Thread(target=write_loop, args=(
        port, until, args.update_ms / 1000, args.components, written)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {
        "path": path, "answers_per_second": round(len(latencies) / args.seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
        "failures": len(failures), "updates_written": sum(1 for s in written if s == 201),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--incidents", type=int, default=30)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--update-ms", type=float, default=200.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        config_path = directory / "tocsin.yaml"
        config_path.write_text(config(args.components), encoding="utf-8")
        db_url = args.db or f"sqlite:///{directory / 'tocsin.db'}"
        with TocsinServer(config_path, db_url, directory / "logs") as server:
            seed(server.port, args.incidents, args.components)
            for path in PATHS:
                print(json.dumps(measure(server.port, path, args)))


if __name__ == "__main__":
    main()
