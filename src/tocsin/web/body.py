"""Read a request body with a size cap, then decode it as JSON.

Starlette has no body limit and a chunked body announces no length, so the
cap is enforced while streaming: the bytes past the limit are never held.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request

from tocsin.errors import InvalidInput, TooLarge

KIB = 1024
MIB = 1024 * KIB


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body is {int(declared)} bytes; this endpoint takes at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body is over this endpoint's limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(raw: bytes) -> Any:
    if not raw.strip():
        raise InvalidInput("body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"body is not valid UTF-8 (bad byte at offset {exc.start})") from exc
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except _NotJsonNumber as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput("body is not valid JSON: it nests too deeply") from exc


class _NotJsonNumber(ValueError):
    pass


def _no_constant(name: str) -> float:
    # Python reads NaN and Infinity; JSON has no such numbers and no store keeps them.
    raise _NotJsonNumber(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotJsonNumber(f"the number {text[:40]} is out of range")
    return value
