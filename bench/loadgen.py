"""A small HTTP load generator for the benchmarks: open loop or as fast as it goes.

Open loop: request i is due at `start + i / rate` whatever became of the
requests before it, and its latency runs from that due time to the end of
its response. A sender that was still busy when a request fell due sends it
late, and the wait counts: a slow server cannot hide behind a sender that
held back (no coordinated omission). Bodies are serialised before the clock
starts, so the generator spends its time sending, not building JSON.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Request:
    body: bytes
    alerts: int  # alerts in the body: what a 200 accepts


@dataclass(frozen=True)
class Target:
    """Where requests go: a loopback port, a path, headers."""

    name: str
    port: int
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    pid: int | None = None  # the server process, for its CPU time


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, of 2xx answers
    statuses: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    first_due: float = 0.0
    last_done: float = 0.0
    server_cpu: float | None = None  # seconds of CPU the server used
    machine_busy: float | None = None  # share of all cores busy, 0..1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: str, request: Request, due: float, done: float) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.last_done = max(self.last_done, done)
            if status.startswith("2"):
                self.latencies.append(done - due)
                self.accepted += request.alerts

    @property
    def elapsed(self) -> float:
        return max(self.last_done - self.first_due, 1e-9)

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile of the 2xx latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000


class Connection:
    """One keep-alive HTTP/1.1 connection, reopened after an error."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self.http: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, body: bytes | None) -> str:
        headers = {"Content-Type": "application/json", **self.target.headers}
        try:
            if self.http is None:
                self.http = http.client.HTTPConnection("127.0.0.1", self.target.port,
                                                       timeout=self.timeout)
            self.http.request(method, path, body=body, headers=headers)
            response = self.http.getresponse()
            response.read()
            return str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return type(exc).__name__

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None


def open_loop(target: Target, requests: Sequence[Request], rate: float, senders: int,
              timeout: float = 60.0) -> Outcome:
    """Send `requests` at `rate` a second from `senders` threads."""
    outcome = Outcome()
    claim = _counter()
    start = time.monotonic() + 0.2
    outcome.first_due = start

    def work() -> None:
        connection = Connection(target, timeout)
        while (index := claim()) < len(requests):
            due = start + index / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            status = connection.send("POST", target.path, requests[index].body)
            outcome.record(status, requests[index], due, time.monotonic())
        connection.close()

    return _measured(target, outcome, [work] * senders)


def closed_loop(target: Target, requests: Sequence[Request], senders: int,
                timeout: float = 60.0) -> Outcome:
    """Send `requests` as fast as `senders` threads can, each after its last answer."""
    outcome = Outcome()
    claim = _counter()
    outcome.first_due = time.monotonic()

    def work() -> None:
        connection = Connection(target, timeout)
        while (index := claim()) < len(requests):
            began = time.monotonic()
            status = connection.send("POST", target.path, requests[index].body)
            outcome.record(status, requests[index], began, time.monotonic())
        connection.close()

    return _measured(target, outcome, [work] * senders)


class Poller:
    """Clients that GET a path every `interval` seconds until stopped, timing each."""

    def __init__(self, target: Target, path: str, clients: int, interval: float) -> None:
        self.target, self.path, self.interval = target, path, interval
        self.outcome = Outcome()
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._poll, args=(n,), daemon=True)
                        for n in range(clients)]

    def __enter__(self) -> Poller:
        self.outcome.first_due = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _poll(self, number: int) -> None:
        connection = Connection(self.target, 60.0)
        # Spread the clients over the interval, then keep each on its own schedule.
        due = time.monotonic() + self.interval * number / len(self.threads)
        while not self.stopped.is_set():
            if (wait := due - time.monotonic()) > 0 and self.stopped.wait(wait):
                break
            status = connection.send("GET", self.path, None)
            self.outcome.record(status, Request(b"", 0), due, time.monotonic())
            due += self.interval
        connection.close()


def _counter() -> Callable[[], int]:
    lock, state = threading.Lock(), [0]

    def claim() -> int:
        with lock:
            state[0] += 1
            return state[0] - 1

    return claim


def _measured(target: Target, outcome: Outcome, workers: list[Callable[[], None]]) -> Outcome:
    cpu_before, busy_before = _cpu_seconds(target.pid), _machine_times()
    threads = [threading.Thread(target=work, daemon=True) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu_after, busy_after = _cpu_seconds(target.pid), _machine_times()
    if cpu_before is not None and cpu_after is not None:
        outcome.server_cpu = cpu_after - cpu_before
    if busy_before is not None and busy_after is not None:
        total = sum(busy_after) - sum(busy_before)
        idle = busy_after[3] + busy_after[4] - busy_before[3] - busy_before[4]
        outcome.machine_busy = 1 - idle / total if total else None
    return outcome


def _cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time of a process, from /proc."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_times() -> list[int] | None:
    try:
        return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except OSError:
        return None
