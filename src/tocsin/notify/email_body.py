"""What an e-mail page says: its subject, plain text and HTML.

Pure functions of a `Page` and the time it is sent. Titles, descriptions and
labels come from outside senders, so the HTML escapes every value and makes a
link only of http(s) URLs; the subject is one line whatever the title holds.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime, timedelta

from tocsin.notify.base import Page

_SUBJECT_TITLE_LIMIT = 150
_LINK_SCHEMES = ("http://", "https://")
# Cc: controls; Zl/Zp: Unicode line and paragraph breaks.
_BREAKING = frozenset({"Cc", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")


def single_line(text: str, limit: int) -> str:
    """`text` as one line of at most `limit` characters: breaks and controls become spaces."""
    flat = "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)
    flat = _SPACES.sub(" ", flat).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def page_subject(page: Page) -> str:
    """`[Tocsin] critical: Payment API 500s`; the severity part only when known."""
    title = single_line(page.title, _SUBJECT_TITLE_LIMIT) or f"alert #{page.alert_id}"
    severity = single_line(page.severity or "", 30)
    return f"[Tocsin] {severity}: {title}" if severity else f"[Tocsin] {title}"


def firing_for(page: Page, now: datetime) -> str:
    """`for 12 minutes, since 2026-03-02 09:30 UTC`."""
    since = page.triggered_at if page.triggered_at.tzinfo else page.triggered_at.replace(
        tzinfo=UTC)
    return f"for {_elapsed(now - since)}, since {since.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _elapsed(delta: timedelta) -> str:
    minutes = int(max(delta, timedelta(0)).total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _facts(page: Page, now: datetime) -> list[tuple[str, str]]:
    facts = [("Severity", page.severity or "none"), ("Service", page.service or "none"),
             ("Firing", firing_for(page, now)),
             ("Alert", f"#{page.alert_id} ({page.status}), escalation step {page.step}")]
    if page.labels:
        labels = ", ".join(f"{key}={value}" for key, value in sorted(page.labels.items()))
        facts.append(("Labels", labels))
    return [(label, single_line(value, 500)) for label, value in facts]


def _links(page: Page) -> list[tuple[str, str]]:
    return [(label, url) for label, url in (("Source", page.source_url),
                                            ("Runbook", page.runbook_url)) if url]


def _ack_note(page: Page) -> str:
    return (f"The link acts as {single_line(page.user_name, 100)} and expires after 24 hours; "
            "opening it asks you to confirm before anything changes.")


def page_text(page: Page, now: datetime) -> str:
    lines = [single_line(page.title, 1000), ""]
    lines += [f"{label + ':':<10} {value}" for label, value in _facts(page, now)]
    if page.description:
        lines += ["", page.description.strip()]
    links = _links(page)
    if links:
        lines += ["", *(f"{label + ':':<10} {single_line(url, 2000)}" for label, url in links)]
    if page.ack_url:
        lines += ["", f"Acknowledge: {page.ack_url}", _ack_note(page)]
    lines += ["", "-- ", "Sent by Tocsin to the person on call."]
    return "\n".join(lines) + "\n"


def page_html(page: Page, now: datetime) -> str:
    rows = "".join(
        f'<tr><th align="left" style="padding-right:12px">{_esc(label)}</th>'
        f"<td>{_esc(value)}</td></tr>"
        for label, value in _facts(page, now)
    )
    parts = [
        '<!DOCTYPE html><html><body style="font-family:sans-serif">',
        f"<h2>{_esc(single_line(page.title, 1000))}</h2>",
        f"<table>{rows}</table>",
    ]
    if page.description:
        parts.append(f'<p style="white-space:pre-wrap">{_esc(page.description.strip())}</p>')
    links = _links(page)
    if links:
        parts.append("<p>" + " | ".join(_link(label, url) for label, url in links) + "</p>")
    if page.ack_url:
        parts.append(f"<p><strong>{_link('Acknowledge', page.ack_url)}</strong></p>")
        parts.append(f'<p style="color:#555">{_esc(_ack_note(page))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _link(label: str, url: str) -> str:
    """An anchor for an http(s) URL; any other scheme is shown as text, never followed."""
    if url.lower().startswith(_LINK_SCHEMES):
        return f'<a href="{_esc(url)}">{_esc(label)}</a>'
    return f"{_esc(label)}: {_esc(url)}"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
