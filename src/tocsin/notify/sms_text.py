"""What an SMS page says, fitted into one segment.

One SMS segment holds 160 characters of the GSM-7 alphabet (the extension
characters `^ { } [ ] ~ \\ | €` take two), or 70 UTF-16 code units when any
character is outside it (an emoji, Thai, a curly quote). Longer texts are
split into segments that arrive apart, cost one each and may come out of
order, so a page is shortened to one segment instead: the title gives way
first, then the ack link gives way to a short hint (a reply the SMS webhook
reads; see web.twilio_inbound).

    Tocsin #12 critical: Payment API 500s Ack: https://tocsin.example.com/a/eyJh...

Pure functions; no I/O.
"""

from __future__ import annotations

# The alphabet and the limits live in config (tocsin check measures SMS templates too).
from tocsin.config.sms_segments import (
    GSM7_LIMIT,
    UCS2_LIMIT,
    fits_one_segment,
    is_gsm7,
    segment_limit,
    units,
)
from tocsin.notify.base import Page
from tocsin.notify.bundles import RATE_LIMIT, BundlePage, summary
from tocsin.notify.email_body import single_line

__all__ = ["GSM7_LIMIT", "UCS2_LIMIT", "bundle_sms", "clip_to_segment", "fits_one_segment",
           "is_gsm7", "notice_sms", "page_sms", "segment_limit", "units"]

# Keep at least this much of a title before giving up the ack link for the hint.
_MIN_TITLE = 24


def page_sms(page: Page) -> str:
    """The page in one segment: alert id, severity, title, and how to acknowledge."""
    head = f"Tocsin #{page.alert_id}"
    severity = single_line(page.severity or "", 20)
    head += f" {severity}: " if severity else ": "
    title = single_line(page.title, 1000) or "(no title)"
    hint = f" Reply ACK {page.alert_id}"
    if page.ack_url:
        with_link = _fit(head, title, f" Ack: {single_line(page.ack_url, 500)}", _MIN_TITLE)
        if with_link is not None:
            return with_link
    return _fit(head, title, hint, 1) or clip_to_segment(head + title)


def bundle_sms(page: BundlePage) -> str:
    """`Tocsin storm: 37 alerts on route ...: HighErrorRate x30 Ack all: <link>` in one segment.

    Pages a rate limit held: `Tocsin: 3 alerts held by your limit of one SMS a minute ...`.
    """
    head = "Tocsin: " if page.reason == RATE_LIMIT else "Tocsin storm: "
    text = single_line(summary(page), 1000)
    if page.ack_url:
        with_link = _fit(head, text, f" Ack all: {single_line(page.ack_url, 500)}", _MIN_TITLE)
        if with_link is not None:
            return with_link
    return clip_to_segment(head + text)


def notice_sms(text: str) -> str:
    return clip_to_segment("Tocsin: " + single_line(text, 1000))


def clip_to_segment(text: str) -> str:
    if fits_one_segment(text):
        return text
    gsm7 = is_gsm7(text)
    limit = GSM7_LIMIT if gsm7 else UCS2_LIMIT
    return _take(text, limit - units(_ellipsis(gsm7), gsm7), gsm7) + _ellipsis(gsm7)


def _fit(head: str, title: str, tail: str, min_title: int) -> str | None:
    """`head + title + tail` in one segment, the title shortened to fit, or None."""
    whole = head + title + tail
    if fits_one_segment(whole):
        return whole
    gsm7 = is_gsm7(whole)
    limit = GSM7_LIMIT if gsm7 else UCS2_LIMIT
    mark = _ellipsis(gsm7)
    room = limit - units(head + tail + mark, gsm7)
    if room < min_title:
        return None
    return head + _take(title, room, gsm7).rstrip() + mark + tail


def _take(text: str, room: int, gsm7: bool) -> str:
    """The longest start of `text` that takes at most `room` units."""
    taken, used = [], 0
    for ch in text:
        cost = units(ch, gsm7)
        if used + cost > room:
            break
        taken.append(ch)
        used += cost
    return "".join(taken)


def _ellipsis(gsm7: bool) -> str:
    # "…" is not in GSM-7; writing it would turn a 160-character text into a 70 one.
    return "..." if gsm7 else "…"
