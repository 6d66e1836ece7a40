"""Label patterns (`match_re` in routes and maintenance windows), run on Google's RE2.

Patterns are written in the config or through the API, and the label values
they run against come from outside. Python's `re` backtracks: `(a+)+$`
against a long run of `a` followed by `!` takes exponential time, and one
such label would stall ingest. RE2 matches in time linear in the value, at
the price of the constructs that need backtracking (lookaround,
backreferences, atomic groups, possessive quantifiers), which `check` and
the API refuse with a fix.

Each pattern is compiled once and kept; matching is against the whole value,
as `re.fullmatch` did.
"""

from __future__ import annotations

import functools
import re
from typing import Protocol, cast

import re2

# RE2's own syntax page: what to read when a pattern is refused.
SYNTAX = "https://github.com/google/re2/wiki/Syntax"


class Compiled(Protocol):
    def fullmatch(self, text: str) -> object | None: ...


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the user, not on stderr

# Constructs RE2 leaves out, by the operator its error names: what it is, and the fix.
_NO_SUCH_GROUP = {
    "(?=": ("RE2 has no lookahead", "rewrite without (?=...): match the text itself"),
    "(?!": ("RE2 has no negative lookahead",
            "rewrite without (?!...): list the values you want, e.g. prod|production"),
    "(?<=": ("RE2 has no lookbehind", "rewrite without (?<=...): match the text itself"),
    "(?<!": ("RE2 has no negative lookbehind",
             "rewrite without (?<!...): list the values you want"),
    "(?>": ("RE2 has no atomic groups", "write the group as (?:...)"),
}
_BACKREFERENCE = ("RE2 has no backreferences",
                  "rewrite without \\1 or (?P=name): repeat the group's pattern instead")
_PYTHON_BOUND = re.compile(r"(?<!\\)\{,\d*\}")


@functools.lru_cache(maxsize=4096)
def compiled(pattern: str) -> Compiled:
    """`pattern` compiled by RE2, kept for the next call; raises `re2.error` if refused."""
    return cast(Compiled, re2.compile(pattern, options=_OPTIONS))


def full_match(pattern: str, value: str) -> bool:
    """Whether the whole of `value` matches `pattern`, in time linear in `value`.

    A pattern RE2 refuses matches nothing. The file and the API refuse such
    patterns; this only meets one stored before Tocsin used RE2, and a
    maintenance window that silences nothing is the safe way to be wrong.
    """
    try:
        regex = compiled(pattern)
    except (re2.error, UnicodeEncodeError):
        return False
    try:
        return regex.fullmatch(value) is not None
    except UnicodeEncodeError:
        # RE2 reads UTF-8; a lone surrogate (from argv, say) is matched as U+FFFD.
        clean = "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in value)
        return regex.fullmatch(clean) is not None


def pattern_problem(pattern: str) -> tuple[str, str] | None:
    """Why RE2 cannot run `pattern`, and the fix, or None when it can."""
    if _PYTHON_BOUND.search(pattern):
        # Python reads a{,3} as up to three; RE2 as the literal text "{,3}".
        return ("RE2 reads {,N} as literal text, not as 0 to N repeats",
                "write {0,N}, e.g. a{0,3}")
    try:
        compiled(pattern)
    except re2.error as exc:
        return _explain(pattern, _message(exc))
    except UnicodeEncodeError:
        return ("the pattern holds a lone UTF-16 surrogate, which is not text",
                "send the pattern as valid UTF-8")
    return None


def _message(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _explain(pattern: str, message: str) -> tuple[str, str]:
    operator = message.removeprefix("invalid perl operator: ")
    if operator != message:
        if operator == "(?P" and "(?P=" in pattern:
            return _BACKREFERENCE
        if operator in _NO_SUCH_GROUP:
            return _NO_SUCH_GROUP[operator]
    escape = message.removeprefix("invalid escape sequence: ")
    if escape != message:
        if escape[1:].isdigit():
            return _BACKREFERENCE
        if escape == "\\Z":
            return ("RE2 has no \\Z", "write \\z for the end of the text, or leave it out: "
                    "the whole value must match anyway")
    if message.startswith("bad repetition operator: ") and message.endswith("+"):
        return ("RE2 has no possessive quantifiers", "write * + ? or {n,m} without the extra +")
    return (f"bad regular expression: {message}",
            f"fix the pattern; match_re uses RE2 syntax ({SYNTAX})")
