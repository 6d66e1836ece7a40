"""A PagerDuty Events v2 endpoint on 127.0.0.1 that records events and answers as told.

    with EventsReceiver() as far_side:
        far_side.answer_next(400, {"status": "invalid event", "message": "...",
                                   "errors": ["..."]})
        ... forward to far_side.url ...
        assert far_side.events[0]["event_action"] == "trigger"

Unscripted requests get PagerDuty's 202 with `status`, `message` and the
event's `dedup_key`. It checks nothing itself; tests look at what arrived.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class EventsReceiver:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # what each request was answered
        self._script: deque[tuple[int, dict[str, Any] | None]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v2/enqueue"

    def answer_next(self, status: int, body: dict[str, Any] | None = None,
                    count: int = 1) -> None:
        """Answer the next `count` requests with `status` and `body` (PagerDuty's by default)."""
        with self._lock:
            self._script.extend([(status, body)] * count)

    def actions(self) -> list[str]:
        with self._lock:
            return [str(found.get("event_action")) for found in self.events]

    def _answer(self, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            status, body = self._script.popleft() if self._script else (202, None)
            self.events.append(event)
            self.statuses.append(status)
        if body is None:
            body = ({"status": "success", "message": "Event processed",
                     "dedup_key": event.get("dedup_key")} if status == 202
                    else {"status": "error", "message": f"answered {status}"})
        return status, body

    def __enter__(self) -> EventsReceiver:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(receiver: EventsReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                event = json.loads(self.rfile.read(length).decode("utf-8"))
            except ValueError:
                event = {}
            status, body = receiver._answer(event if isinstance(event, dict) else {})
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
