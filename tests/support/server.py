"""Run `tocsin serve` as a real subprocess on a free loopback port.

    server = TocsinServer(config_path, db_url, log_dir)
    server.start()                      # returns once /healthz answers 200
    httpx.get(server.url("/healthz"))
    server.kill()                       # SIGKILL: a crash
    server.start()                      # the same database, a new process
    server.stop()                       # SIGTERM, then wait for the exit

Each start appends the process's stdout and stderr to files in `log_dir`
(`serve-<n>.out`, `serve-<n>.err`), so a failing test can show the log.
Nothing here imports pytest: the benchmark uses it too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

T = TypeVar("T")


class ServerError(RuntimeError):
    """The server did not come up, or died; the message carries its log tail."""


def free_port() -> int:
    """A port nobody listens on right now (the kernel's choice) on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    predicate: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.1,
    message: str | Callable[[], str] = "condition",
) -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout`.

    End-to-end tests wait on real processes and real timers, so they poll
    with a deadline instead of sleeping a fixed time.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {text}")
        time.sleep(interval)


def tocsin_command() -> list[str]:
    """The `tocsin` console script installed beside this interpreter."""
    script = Path(sys.executable).with_name("tocsin")
    if not script.exists():
        raise ServerError(f"{script} is missing; install the package (pip install -e .)")
    return [str(script)]


class TocsinServer:
    def __init__(
        self, config_path: Path, db_url: str, log_dir: Path, *, port: int | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.config_path = config_path
        self.db_url = db_url
        self.log_dir = log_dir
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServerError("the server is not running")
        return self.process.pid

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / f"serve-{self.starts}.err"

    def log_tail(self, lines: int = 40) -> str:
        if not self.stderr_path.exists():
            return "(no log)"
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> TocsinServer:
        """Start a new process on the same database; wait for /healthz.

        A restart keeps the port. The first start moves to another free port
        if something took the chosen one between choosing and binding.
        """
        if self.process is not None and self.process.poll() is None:
            raise ServerError("the server is already running")
        first = self.starts == 0
        self._launch()
        try:
            self._wait_healthy()
        except ServerError:
            if not (first and "address already in use" in self.log_tail().lower()):
                raise
            self.port = free_port()
            self._launch()
            self._wait_healthy()
        return self

    def _launch(self) -> None:
        self.starts += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [*tocsin_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--config", str(self.config_path), "--db", self.db_url]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_dir / f"serve-{self.starts}.out", "wb") as out, \
                open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, env=env,
                                            stdin=subprocess.DEVNULL)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(f"tocsin serve exited with {self.process.returncode}:\n"
                                  + self.log_tail())
            if self._healthy():
                return
            time.sleep(0.05)
        self.kill()
        raise ServerError(f"tocsin serve did not answer /healthz in {self.startup_timeout}s:\n"
                          + self.log_tail())

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url("/healthz"), timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up, as in a crash."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> TocsinServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()
