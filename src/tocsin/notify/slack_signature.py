"""Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`.

Keyed by the app's signing secret. A request whose timestamp is more than
five minutes from now is refused, so a captured request cannot be replayed
later; the signature is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

MAX_SKEW_SECONDS = 300
_VERSION = "v0"
# Unix seconds; a longer value is not a timestamp Slack sends.
_MAX_TIMESTAMP_DIGITS = 12


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = f"{_VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"{_VERSION}={digest}"


def problem(secret: str, *, timestamp: str | None, signed: str | None, body: bytes,
            now: datetime) -> str | None:
    """Why the request is refused (safe to log: never the secret or signature), or None."""
    if not timestamp or not signed:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        return "X-Slack-Request-Timestamp is not unix seconds"
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        return "timestamp is more than 5 minutes from this server's clock"
    expected = signature(secret, timestamp, body).encode("ascii")
    if not hmac.compare_digest(expected, signed.encode("utf-8", "replace")):
        return "signature does not match"
    return None
