"""Webhook posts keep their TCP connections alive, and go through a proxy the environment names."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.fixtures import WEBHOOK_SECRET
from tests.support.pages import make_page
from tocsin.clock import FakeClock
from tocsin.config.model import WebhookProvider
from tocsin.notify.webhook import WebhookNotifier


class _Counting(ThreadingHTTPServer):
    """Answers 200 and notes the client port of each request: one port, one connection."""

    daemon_threads = True

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Counting

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Counting]:
    found = _Counting()
    thread = threading.Thread(target=found.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield found
    found.shutdown()
    found.server_close()
    thread.join(timeout=5)


def test_each_sending_thread_keeps_one_connection_open(
    server: _Counting, fake_clock: FakeClock,
) -> None:
    notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    outcomes: list[bool] = []

    def send_four() -> None:
        for _ in range(4):
            outcomes.append(notifier.send(make_page(address=url)).ok)

    threads = [threading.Thread(target=send_four) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    notifier.close()
    assert outcomes == [True] * 12
    assert len(server.ports) == 12
    assert len(set(server.ports)) <= 3  # kept alive: no new connection per page


class _ClosingIdle(_Counting):
    """Closes each connection once it has answered, without saying so (an idle timeout)."""

    def __init__(self) -> None:
        self.closed = threading.Semaphore(0)
        super().__init__()
        self.RequestHandlerClass = _ClosingHandler

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.release()


class _ClosingHandler(_Handler):
    def do_POST(self) -> None:
        super().do_POST()
        self.close_connection = True


def test_a_connection_the_receiver_closed_while_idle_is_not_posted_on(
    fake_clock: FakeClock,
) -> None:
    server = _ClosingIdle()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        outcomes = []
        for _ in range(3):
            outcomes.append(notifier.send(make_page(address=url)))
            server.closed.acquire(timeout=5)  # until the receiver has closed it
        notifier.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert [outcome.detail for outcome in outcomes] == [f"{url} answered HTTP 200"] * 3
    assert len(set(server.ports)) == 3  # a new connection each time, none failed


class _Proxy(_Counting):
    """Answers 200 to every request and keeps its request line: a forward proxy's view."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        super().__init__()
        self.RequestHandlerClass = _ProxyHandler


class _ProxyHandler(_Handler):
    server: _Proxy

    def do_POST(self) -> None:
        self.server.paths.append(self.path)
        super().do_POST()


def test_a_proxy_named_by_the_environment_carries_the_pages(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = _Proxy()
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)
        # Port 9 (discard) on loopback: only the proxy is ever dialled.
        assert notifier.send(make_page(address="http://127.0.0.1:9/hook")).ok
        notifier.close()
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)
    assert proxy.paths == ["http://127.0.0.1:9/hook"]
