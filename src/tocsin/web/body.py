"""Read a request body with a size cap, then decode it as JSON.

Starlette has no body limit and a chunked body announces no length, so the
cap is enforced while streaming: the bytes past the limit are never held.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from tocsin.errors import FieldProblem, InvalidInput, TooLarge

KIB = 1024
MIB = 1024 * KIB
# An answer to an alert (ack, snooze, reassign...) or a direct page: a few fields.
ANSWER_LIMIT = 64 * KIB


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


def known_fields(model: type[BaseModel] | None) -> Callable[[Request], Awaitable[None]]:
    """A dependency: a body, when one is given, is a JSON object holding only the fields of
    `model` (None: no fields at all), else 400 naming the problem and the valid fields.

    An empty body passes: the endpoint's own model says whether it needs one. Without
    this, a body that is no JSON, or a misspelt field, acted as if nothing were sent.
    """

    async def check(request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > ANSWER_LIMIT:
            raise TooLarge(f"body is {int(declared)} bytes; this endpoint takes at most "
                           f"{ANSWER_LIMIT}")
        raw = await request.body()  # kept by the request for the endpoint's own model
        if not raw.strip():
            return
        _only_known(decode_json(raw), model, "")

    return check


def _only_known(data: Any, model: type[BaseModel] | None, prefix: str) -> None:
    if not isinstance(data, dict):
        raise InvalidInput(f"{prefix.rstrip('.') or 'body'} must be a JSON object"
                           + ("" if model or prefix else "; send no body, or {}"))
    names = tuple(model.model_fields) if model is not None else ()
    unknown = [name for name in data if name not in names]
    if unknown:
        valid = (f"valid fields: {', '.join(names)}" if names
                 else "this endpoint takes no fields; send no body, or {}")
        raise InvalidInput(f"unknown field {prefix}{unknown[0]}; {valid}",
                           [FieldProblem(f"{prefix}{name}", f"unknown field; {valid}")
                            for name in unknown])
    for name, field in (model.model_fields.items() if model is not None else ()):
        inner = field.annotation
        if (isinstance(inner, type) and issubclass(inner, BaseModel)
                and isinstance(data.get(name), dict)):
            _only_known(data[name], inner, f"{prefix}{name}.")


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
