"""A loopback webhook receiver for the paging benchmarks: when each page arrived.

    with PageReceiver() as receiver:         # in this process, on 127.0.0.1
        ... point a user's `webhook` contact at receiver.url("/alice") ...
        receiver.arrivals()                  # [Arrival(at, kind, alert_ids, step, path)]

    with ReceiverProcess() as receiver:      # the same, in a child process, so that
        ...                                  # answering pages takes no time from an
        receiver.arrivals()                  # engine running in this one

`at` is `time.monotonic()`, one clock for every process on the machine (Linux
CLOCK_MONOTONIC), so the sender can compare it with its own. A page lists
one alert id; a storm bundle lists every alert it covers. Signatures are not
checked: the tests do that (tests/support/webhook_receiver.py).
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the body had been read
    kind: str  # "page", "bundle" or "notice"
    alert_ids: tuple[int, ...]
    step: int | None
    path: str


def parse(at: float, path: str, body: bytes) -> Arrival:
    try:
        document = json.loads(body)
    except ValueError:
        return Arrival(at, "unreadable", (), None, path)
    kind = str(document.get("event", ""))
    if kind == "page":
        ids: tuple[int, ...] = (int(document["alert"]["id"]),)
    elif kind == "bundle":
        ids = tuple(int(alert["id"]) for alert in document.get("alerts", []))
    else:
        ids = ()
    return Arrival(at, kind, ids, document.get("step"), path)


class PageReceiver:
    """A threaded HTTP/1.1 server (keep-alive, as Tocsin's client expects) answering 200."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._raw: list[tuple[float, str, bytes]] = []
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                         kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def record(self, at: float, path: str, body: bytes) -> None:
        with self._lock:
            self._raw.append((at, path, body))

    def arrivals(self) -> list[Arrival]:
        """Every request so far, parsed now (not while pages are arriving)."""
        with self._lock:
            raw = list(self._raw)
        return [parse(at, path, body) for at, path, body in raw]

    def count(self) -> int:
        with self._lock:
            return len(self._raw)

    def __enter__(self) -> PageReceiver:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog, read when the server is made (set on the instance
    # afterwards, it was 5): a burst of new connections from the engine's
    # sending threads overflowed 5, and a page then failed with ReadError.
    request_queue_size = 128


def _handler_for(receiver: PageReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # As production servers do: TCP_NODELAY, and the answer in one write. Headers
        # and body in two writes on a Nagle socket wait for the sender's delayed ACK
        # (40 ms on Linux) on every request, which timed this receiver, not Tocsin.
        disable_nagle_algorithm = True
        wbufsize = -1  # buffered: flushed once the answer is complete

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.record(time.monotonic(), self.path, body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "11")
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class ReceiverProcess:
    """A PageReceiver in a child process; ask it for counts and arrivals through a pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_child, args=(child,), daemon=True)
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _ask(self, question: str) -> Any:
        self._conn.send(question)
        return self._conn.recv()

    def count(self) -> int:
        found: int = self._ask("count")
        return found

    def arrivals(self) -> list[Arrival]:
        found: list[Arrival] = self._ask("arrivals")
        return found

    def __enter__(self) -> ReceiverProcess:
        self._process.start()
        self.port = int(self._conn.recv())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._conn.send("stop")
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()


def _child(conn: Connection) -> None:
    with PageReceiver() as receiver:
        conn.send(receiver.port)
        while (question := conn.recv()) != "stop":
            conn.send(receiver.count() if question == "count" else receiver.arrivals())
