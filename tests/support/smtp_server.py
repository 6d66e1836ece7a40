"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the e-mail channel's tests.

    with SmtpServer() as smtp:
        ...send to 127.0.0.1:smtp.port...
        assert smtp.messages[0].message["Subject"] == "..."

It records every accepted message, parsed. Answers can be scripted per
DATA command (`answer_data_with("451 4.3.2 try later")`), recipients can be
unknown (`550` at RCPT), and it can speak STARTTLS or implicit TLS with a
self-signed certificate made by `openssl` for the test, and require a login.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    tls: bool  # whether the message came over an encrypted connection


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with the openssl CLI."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def client_context(cert: Path) -> ssl.SSLContext:
    """A client context that trusts only the test's certificate, names checked."""
    return ssl.create_default_context(cafile=str(cert))


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self._server.unknown:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # STARTTLS sets session.ssl; implicit TLS shows on the transport from the start.
        implicit = server.transport.get_extra_info("ssl_object") is not None
        return self._server.take(envelope, tls=session.ssl is not None or implicit)


class SmtpServer:
    def __init__(
        self, *, unknown: tuple[str, ...] = (), tls: tuple[Path, Path] | None = None,
        implicit_tls: bool = False, login: tuple[str, str] | None = None,
    ) -> None:
        self.unknown = unknown
        self.messages: list[Received] = []
        self.data_attempts = 0
        self.logins: list[tuple[str, bool]] = []  # (user, password right)
        self._answers: deque[str] = deque()
        self._lock = threading.Lock()
        self.port = _free_port()
        self._login = login
        kwargs: dict[str, Any] = {}
        if tls is not None:
            server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_tls.load_cert_chain(str(tls[0]), str(tls[1]))
            if implicit_tls:
                kwargs["ssl_context"] = server_tls
            else:
                kwargs.update(tls_context=server_tls, require_starttls=True)
        if login is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=tls is not None)
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                      **kwargs)

    def answer_data_with(self, *replies: str) -> None:
        """Answer the next DATA commands with these replies, in order, then 250."""
        with self._lock:
            self._answers.extend(replies)

    def take(self, envelope: Any, *, tls: bool) -> str:
        with self._lock:
            self.data_attempts += 1
            if self._answers:
                return self._answers.popleft()
            raw = bytes(envelope.original_content or envelope.content)
            parsed = message_from_bytes(raw, policy=default_policy)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw,
                                          parsed, tls))
            return "250 2.0.0 OK: queued"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self._login is None:
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8")
        right = (user, auth_data.password.decode("utf-8")) == self._login
        with self._lock:
            self.logins.append((user, right))
        return AuthResult(success=right, handled=False)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._controller.stop()


def _free_port() -> int:
    # aiosmtpd's controller checks readiness by connecting to its port, so it needs one named.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, so no other test takes it, never
    listening, so the kernel answers a connection with a reset."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])
