"""HTTP/1.1 posts over connections kept alive per receiver, shared by the sending threads.

The webhook sender's own client: a page's post costs half the CPU it did
through urllib3's pools (0.14 against 0.29 ms on loopback), and a mass
escalation is thousands of posts from one process. It keeps urllib3's
ways, which the webhook sender used before: a URL is read as urllib3 reads it
(lower-case host, IDNA, escapes; user info and fragment dropped), a request
carries the same headers, an idle connection the receiver closed is not
reused, a request is never retried (a page's retries are the engine's), and
a failure is named as urllib3 named it.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ssl
import threading
from collections.abc import Mapping
from importlib.metadata import version
from typing import NamedTuple
from urllib.parse import urlsplit

from urllib3.util import parse_url, wait_for_read

from tocsin.notify import tls

# The header urllib3 added: receivers see the request they saw before.
USER_AGENT = f"python-urllib3/{version('urllib3')}"


class Receiver(NamedTuple):
    """Where a URL posts to: the connection's ends and the request target."""

    scheme: str  # http | https
    host: str
    port: int
    target: str  # path and query


class PostFailed(Exception):
    """No HTTP answer came: `timed_out`, or `kind` names the failure (`ConnectError`,
    `ProtocolError`, `SSLError`)."""

    def __init__(self, *, timed_out: bool = False, kind: str = "") -> None:
        super().__init__(kind or "timed out")
        self.timed_out = timed_out
        self.kind = kind


@functools.lru_cache(maxsize=1024)
def receiver(url: str) -> Receiver | None:
    """The receiver of an http(s) URL; None when the URL cannot be posted to.

    Cached: the same few URLs are posted to thousands of times in an escalation.
    """
    try:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return None
        parts = parse_url(url)
    except ValueError:
        return None
    if not parts.host or parts.scheme not in ("http", "https"):
        return None
    host = parts.host
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 address: http.client adds the brackets to Host itself
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Receiver(parts.scheme, host, port, parts.request_uri)


class Connections:
    """Idle connections per receiver, each taken by one thread at a time.

    At most `per_receiver` idle connections are kept for a receiver, and
    those of at most `receivers` receivers, the least recently used let go.
    """

    def __init__(self, *, timeout: float, per_receiver: int, receivers: int) -> None:
        self._timeout = timeout
        self._per_receiver = per_receiver
        self._receivers = receivers
        self._idle: dict[Receiver, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def post(self, to: Receiver, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body`; the answer's status once its body is read. Raises `PostFailed`."""
        connection = self._take(to)
        try:
            status = _exchange(connection, to, body, {**headers, "User-Agent": USER_AGENT})
        except BaseException:
            connection.close()
            raise
        self._give_back(to, connection)
        return status

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _take(self, to: Receiver) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get(to)
            connection = idle.pop() if idle else None
        if connection is None:
            if to.scheme == "https":
                return http.client.HTTPSConnection(to.host, to.port, timeout=self._timeout,
                                                   context=tls.http_context())
            return http.client.HTTPConnection(to.host, to.port, timeout=self._timeout)
        if connection.sock is not None and wait_for_read(connection.sock, timeout=0.0):
            # Readable while idle: the receiver closed it (or sent what nobody asked for).
            connection.close()
        return connection

    def _give_back(self, to: Receiver, connection: http.client.HTTPConnection) -> None:
        if connection.sock is None:
            return  # the receiver said it closes this connection
        dropped: list[http.client.HTTPConnection] = []
        with self._lock:
            # Taken out and put back: the dict's order is the receivers' last use.
            idle = self._idle.pop(to, None) or []
            self._idle[to] = idle
            if len(idle) < self._per_receiver:
                idle.append(connection)
            else:
                dropped.append(connection)
            while len(self._idle) > self._receivers:
                dropped += self._idle.pop(next(iter(self._idle)))
        for extra in dropped:
            extra.close()


def _exchange(connection: http.client.HTTPConnection, to: Receiver, body: bytes,
              headers: dict[str, str]) -> int:
    if connection.sock is None:
        try:
            connection.connect()
        except OSError as exc:
            raise _failure(exc, connecting=True) from exc
    try:
        # The receiver may have answered before it closed (a 413, say): read that.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request("POST", to.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read()  # the body, so the connection can carry the next post
    except (OSError, http.client.HTTPException) as exc:
        raise _failure(exc, connecting=False) from exc
    return response.status


def _failure(exc: BaseException, *, connecting: bool) -> PostFailed:
    """The failure as urllib3 named it; the exception's text may quote the URL."""
    if isinstance(exc, TimeoutError):
        return PostFailed(timed_out=True)
    if isinstance(exc, ssl.SSLError):
        return PostFailed(kind="SSLError")
    return PostFailed(kind="ConnectError" if connecting else "ProtocolError")
