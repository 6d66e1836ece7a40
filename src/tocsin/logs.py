"""Logging as events: a fixed name, the data as fields, secrets masked.

`event(log, "alert.acknowledged", alert_id=12, actor="alice")` writes one
line `alert.acknowledged alert_id=12 actor=alice`. The serve command
installs `RedactingFilter` with every key and token of the loaded config,
so a secret that reaches a message (an access-log path holding an
integration key, say) is printed as `***`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

# Whatever follows /integrations/ is a key, except the names of the endpoints
# that take the key in a header instead.
_INTEGRATION_PATH = re.compile(
    r"(/integrations/)(?!(?:alertmanager|grafana|generic)(?:[\s\"?/]|$))[^/\s\"?]+"
)
# A signed link (an alert's /a/, a storm bundle's /b/, and the call's keypad
# answer /twilio/voice/, which carries the ack link's token) acts as the person
# paged for a day: keep it out of the logs too.
# A calendar feed's token reads someone's shifts: masked like the others.
_FEED_PATH = re.compile(r"(/calendars/)[^/\s\"?]+(\.ics)")
_LINK_PATH = re.compile(r"(/[ab]/|/twilio/voice/)[^/\s\"?]+")


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, name, extra={"tocsin_fields": fields})


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "tocsin_fields", "taskName",
}


def record_fields(record: logging.LogRecord) -> dict[str, object]:
    """The event's data: `event(...)` fields and any `extra=` given directly."""
    fields: dict[str, object] = dict(getattr(record, "tocsin_fields", None) or {})
    for key, value in vars(record).items():
        if key not in _STANDARD:
            fields[key] = value
    return fields


class EventFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = record_fields(record)
        if fields:
            line += " " + " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        return line


# What makes a value need quotes: whitespace (as `str.isspace` counts it) or a quote.
_NEEDS_QUOTES = re.compile(r'[\s\x1c-\x1f"]')


def _quote(value: Any) -> str:
    text = str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '\\"') + '"'
    return text


class RedactingFilter(logging.Filter):
    """Masks known secrets and the key part of integration URLs in every record."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def set_secrets(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets = tuple(sorted({s for s in secrets if len(s) >= 4}, key=len,
                                         reverse=True))

    def redact(self, text: str) -> str:
        text = _INTEGRATION_PATH.sub(r"\1***", text)
        text = _LINK_PATH.sub(r"\1***", text)
        text = _FEED_PATH.sub(r"\1***\2", text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = ()
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        fields = getattr(record, "tocsin_fields", None)
        if fields:
            record.tocsin_fields = {k: self.redact(str(v)) for k, v in fields.items()}
        return True


REDACTOR = RedactingFilter()


def configure(level: int = logging.INFO) -> None:
    """Log to stderr through the event formatter, every handler redacting."""
    handler = logging.StreamHandler()
    handler.setFormatter(EventFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # httpx logs whole request URLs (which may hold tokens) at INFO, and
    # slack_sdk logs message bodies (which hold ack links) at DEBUG.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
