"""A webhook receiver on 127.0.0.1 that records what Tocsin posts to it.

    with WebhookReceiver(secret="s3cret") as receiver:
        receiver.fail_next(2)            # the next two requests get HTTP 500
        ... post to receiver.url("/pages/alice") ...
        assert receiver.requests[0].signature_valid

Each request's signature is checked with `tocsin.notify.webhook.verify`,
against the receiver's own clock (`now`, a callable returning Unix seconds),
so a test with a fake clock passes the same clock to both sides.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tocsin.notify.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased: HTTP header names ignore case
    body: bytes
    signature_valid: bool
    status: int  # what the receiver answered

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get(IDEMPOTENCY_HEADER.lower())


@dataclass(frozen=True)
class _Scripted:
    status: int
    delay_seconds: float = 0.0


class _Server(ThreadingHTTPServer):
    # The engine posts from many sending threads at once: a listen backlog of
    # socketserver's default 5 drops connections, which look like failed pages.
    request_queue_size = 128
    daemon_threads = True


class WebhookReceiver:
    def __init__(
        self,
        secret: str,
        *,
        now: Callable[[], int] | None = None,
        reject_bad_signatures: bool = False,
    ) -> None:
        self.secret = secret
        self.requests: list[ReceivedRequest] = []
        self._now = now or (lambda: int(time.time()))
        self._reject_bad_signatures = reject_bad_signatures
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        # A short poll keeps shutdown (once per test) from costing half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()  # cut short any scripted delay
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer `status` (500 unless told) to the next `count` requests."""
        self.respond_next(status, count)

    def respond_next(self, status: int, count: int = 1) -> None:
        with self._lock:
            self._script.extend([_Scripted(status)] * count)

    def delay_next(self, seconds: float, status: int = 200) -> None:
        """Hold the next answer for `seconds`, to make a sender time out."""
        with self._lock:
            self._script.append(_Scripted(status, seconds))

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> _Scripted:
        signature = headers.get(SIGNATURE_HEADER.lower(), "")
        valid = verify(self.secret, signature, body, self._now())
        with self._lock:
            answer = self._script.popleft() if self._script else _Scripted(200)
            if self._reject_bad_signatures and not valid:
                answer = _Scripted(401)
            self.requests.append(ReceivedRequest(path, headers, body, valid, answer.status))
        return answer


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:
                return  # the sender died mid-request (a crash test): nothing was received
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = receiver._answer(self.path, headers, body)
            if answer.delay_seconds and receiver._stopping.wait(answer.delay_seconds):
                return
            payload = json.dumps({"ok": 200 <= answer.status < 300}).encode("utf-8")
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting, as a timeout test expects

        # Heartbeat monitors are pinged with GET as well; recorded the same way.
        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
