"""One TLS context for every outbound client in the process.

Loading the certificate authorities takes about 0.1 s; every notifier built
on a config reload used to load them again. A client context holds no
per-connection state, so one is shared by all threads and clients.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def http_context() -> ssl.SSLContext:
    """The context httpx would build itself (certifi's authorities), built once."""
    return httpx.create_ssl_context()


@functools.cache
def system_context() -> ssl.SSLContext:
    """The system's authorities and host name checks (SMTP), built once."""
    return ssl.create_default_context()
