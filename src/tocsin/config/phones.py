"""Phone numbers in the form SMS and voice providers take: E.164, `+` then digits.

People write numbers with spaces, dots, dashes and brackets for reading; those
are dropped. What is left must be a `+`, a country code that does not start
with 0, and 7 to 15 digits in all, or it is not a number a provider can dial.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[ \t().-]")
# [0-9], not \d: \d also takes digits of other scripts, which no provider dials.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def e164(number: str) -> str | None:
    """`number` without separators when that is E.164 (`+15550100`), else None."""
    compact = _SEPARATORS.sub("", number)
    return compact if _E164.fullmatch(compact) else None
