"""One error hierarchy. The web edge maps it to HTTP in one place.

A `TocsinError` is safe to show to a client: its message never holds a
secret. Anything else that escapes is a bug, logged with its stack and
answered with a plain 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    path: str
    message: str


@dataclass
class TocsinError(Exception):
    message: str
    fields: list[FieldProblem] = field(default_factory=list)
    code: str = "error"
    status: int = 400

    def __str__(self) -> str:
        return self.message


class InvalidInput(TocsinError):
    def __init__(self, message: str, fields: list[FieldProblem] | None = None) -> None:
        super().__init__(message, fields or [], "invalid_input", 400)


class NotFound(TocsinError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], "not_found", 404)


class Conflict(TocsinError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], "conflict", 409)


class Unauthorized(TocsinError):
    def __init__(self, message: str = "a valid bearer token is required") -> None:
        super().__init__(message, [], "unauthorized", 401)


class Forbidden(TocsinError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], "forbidden", 403)


class TooLarge(TocsinError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], "too_large", 413)
