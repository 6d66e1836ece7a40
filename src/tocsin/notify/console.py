"""The console channel: always on, so the laptop demo shows pages on the terminal.

Each page becomes one line on a text stream (stderr unless told otherwise):

    PAGE alert #12 [critical] payment: "Payment API 500s" -> Alice (step 1) ack: http://...

A storm bundle is one line too, listing every alert id it covers:

    BUNDLE #5 -> Alice: 37 alerts on route routes[0] (payment): HighErrorRate x30,
    DiskFull x7 [alerts #12-#48] ack all: http://...

and an INFO record on this module's logger. The record leaves the ack link
out: that link acts as the person paged, so it belongs on their terminal,
not in log storage. Once a real channel (Slack, webhook, e-mail, Twilio) is
configured the console is the server's output, not anyone's terminal: the
line then says the link went to the person (`show_links=False`).
"""

from __future__ import annotations

import logging
import sys
import unicodedata
from typing import TextIO

from tocsin.notify.base import DeliveryOutcome, Notice, Page
from tocsin.notify.bundles import BundlePage, id_ranges, summary

logger = logging.getLogger(__name__)

# Cc: C0/C1 controls (newline, ESC, CSI); Zl/Zp: Unicode line/paragraph breaks.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ConsoleNotifier:
    channel = "console"

    def __init__(self, stream: TextIO | None = None, *, show_links: bool = True) -> None:
        # None means "sys.stderr at send time", so a redirected stderr is honoured.
        self._stream = stream
        self._show_links = show_links

    def send(self, page: Page) -> DeliveryOutcome:
        summary = page_summary(page)
        logger.info(
            "notify.console.page: %s",
            summary,
            extra={
                "delivery_id": page.delivery_id,
                "alert_id": page.alert_id,
                "user_id": page.user_id,
                "step": page.step,
            },
        )
        self._write(self._with_link(summary, "ack", page.ack_url))
        return DeliveryOutcome(ok=True, detail="shown on the console")

    def send_bundle(self, page: BundlePage) -> DeliveryOutcome:
        headline = f"BUNDLE #{page.bundle_id} -> {printable(page.user_name)}: " + printable(
            summary(page))
        logger.info(
            "notify.console.bundle: %s",
            headline,
            extra={"bundle_id": page.bundle_id, "user_id": page.user_id,
                   "alerts": len(page.alerts)},
        )
        line = f"{headline} [alerts {id_ranges(page.alert_ids)}]"
        self._write(self._with_link(line, "ack all", page.ack_url))
        return DeliveryOutcome(ok=True, detail="shown on the console")

    def _with_link(self, line: str, label: str, url: str | None) -> str:
        if not url:
            return line
        if not self._show_links:
            return f"{line} {label}: link sent to the person only"
        return f"{line} {label}: {printable(url)}"

    def send_notice(self, notice: Notice) -> DeliveryOutcome:
        """`NOTICE -> Alice: Your on-call shift for primary starts in 1 hour (...)`."""
        line = f"NOTICE -> {printable(notice.user_name)}: {printable(notice.text)}"
        logger.info(
            "notify.console.notice: %s",
            line,
            extra={"notice_id": notice.notice_id, "kind": notice.kind, "user_id": notice.user_id},
        )
        self._write(line)
        return DeliveryOutcome(ok=True, detail="shown on the console")

    def _write(self, line: str) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            # A closed terminal must not fail the page: the log record above has it.
            logger.warning("notify.console.stream_failed", exc_info=True)


def page_summary(page: Page) -> str:
    """`PAGE alert #12 [critical] payment: "title" -> Alice (step 1)`, on one line."""
    parts = [f"PAGE alert #{page.alert_id}"]
    if page.severity:
        parts.append(f"[{printable(page.severity)}]")
    if page.service:
        parts.append(f"{printable(page.service)}:")
    parts.append(f'"{printable(page.title)}"')
    parts.append(f"-> {printable(page.user_name)} (step {page.step})")
    if page.status != "triggered":
        parts.append(f"[{printable(page.status)}]")
    return " ".join(parts)


def printable(text: str) -> str:
    """`text` with control, line-break and bidi-override characters escaped.

    Titles come from outside senders: a newline would split the line, an
    escape sequence could rewrite the operator's terminal and a bidi override
    could make the text read differently from what it is. Other format
    characters stay, since emoji sequences are joined by U+200D.
    """
    if text.isprintable():
        return text  # no control, separator or format character at all: nothing to escape
    return "".join(_escape_char(ch) if _unsafe(ch) else ch for ch in text)


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES or ch in _BIDI_CONTROLS


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
