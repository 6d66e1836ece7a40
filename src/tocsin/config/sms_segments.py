"""How much of one SMS segment a text takes.

One segment holds 160 characters of the GSM-7 alphabet (the extension
characters `^ { } [ ] ~ \\ | €` take two), or 70 UTF-16 code units when any
character is outside it (an emoji, Thai, a curly quote). The page texts
(`notify.sms_text`) fit themselves into one segment with these functions, and
`tocsin check` measures an SMS template's sample rendering with them.

Pure functions; no I/O.
"""

from __future__ import annotations

GSM7_LIMIT = 160
UCS2_LIMIT = 70

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text)


def units(text: str, gsm7: bool) -> int:
    """How much of a segment `text` takes: septets in GSM-7, UTF-16 code units otherwise."""
    if gsm7:
        return sum(2 if ch in _GSM7_EXTENSION else 1 for ch in text)
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def segment_limit(text: str) -> int:
    return GSM7_LIMIT if is_gsm7(text) else UCS2_LIMIT


def fits_one_segment(text: str) -> bool:
    gsm7 = is_gsm7(text)
    return units(text, gsm7) <= (GSM7_LIMIT if gsm7 else UCS2_LIMIT)
