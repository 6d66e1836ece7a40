"""Who is calling /api/v1: a bearer token, or a web UI session.

A bearer token is checked as it always was: with an `Authorization` header
present, only the token counts, and a bad one is a 401 whatever cookie came
with it. Without that header, the UI's session cookie is accepted, as
DESIGN.md's contract says. A session caller:

- acts as its user, on the surface "web" in the audit log;
- holds write scope, or admin when the config gives that user an API token
  of admin scope (users have no scope of their own; tokens do);
- sends `X-CSRF-Token` with the session's CSRF token (the one every UI
  form carries) on every POST, PUT, PATCH and DELETE, or is refused (403).

Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Header, Request

from tocsin.config.model import ApiToken, Config, Scope
from tocsin.engine.runtime import Runtime
from tocsin.errors import Forbidden, Unauthorized
from tocsin.web.ui_session import Sessions, csrf_ok, trusted_header_name

_RANK = {"read": 0, "write": 1, "admin": 2}
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_SURFACE = "web"


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def find_token(config: Config, presented: str | None) -> ApiToken | None:
    if not presented:
        return None
    found = None
    for token in config.api_tokens:
        # Compare against every token so timing says nothing about which matched.
        if hmac.compare_digest(token.token.encode(), presented.encode()):
            found = token
    return found


def require(config: Config, header: str | None, scope: str) -> ApiToken:
    token = find_token(config, bearer(header))
    if token is None:
        raise Unauthorized()
    _check_scope(token.scope, scope, "this token")
    return token


def actor(token: ApiToken) -> str:
    return token.user or f"token:{token.name}"


def session_scope(config: Config, user_id: str) -> Scope:
    """Write, or admin for a user the config gives an admin token."""
    admin = any(t.user == user_id and t.scope == "admin" for t in config.api_tokens)
    return "admin" if admin else "write"


def _check_scope(held: str, needed: str, holder: str) -> None:
    if _RANK[held] < _RANK[needed]:
        raise Forbidden(f"{holder} has scope {held}; this call needs {needed}")


@dataclass(frozen=True)
class Caller:
    """Whoever an /api/v1 call acts for, as the audit log records them."""

    actor: str
    scope: Scope
    surface: str  # "api" for a bearer token, "web" for a UI session


def needs(scope: Scope) -> Callable[..., Caller]:
    """The check an /api/v1 route runs first, as a FastAPI dependency; see the docstring."""

    def check(
        request: Request, authorization: str | None = Header(None),
        x_csrf_token: str | None = Header(None),
    ) -> Caller:
        runtime: Runtime = request.app.state.runtime
        config = runtime.config_now()
        if authorization is not None:
            token = require(config, authorization, scope)
            return Caller(actor(token), token.scope, "api")
        return _from_session(request, runtime, scope, x_csrf_token or "")

    return check


def _from_session(request: Request, runtime: Runtime, scope: Scope, csrf: str) -> Caller:
    viewer = _ui_sessions(request, runtime).viewer(request)
    if viewer is None:
        raise Unauthorized("a valid bearer token or a web UI session is required")
    if request.method not in SAFE_METHODS and not csrf_ok(viewer.session, csrf):
        raise Forbidden(f"a call with a UI session must send the session's CSRF token "
                        f"in the {CSRF_HEADER} header")
    held = session_scope(runtime.config_now(), viewer.user.id)
    _check_scope(held, scope, "this session")
    return Caller(viewer.user.id, held, SESSION_SURFACE)


def _ui_sessions(request: Request, runtime: Runtime) -> Sessions:
    # Made on first use, once per app: it reads (or makes) the key in the database.
    state = request.app.state
    found: Sessions | None = getattr(state, "api_ui_sessions", None)
    if found is None:
        found = Sessions(runtime, trusted_header=trusted_header_name())
        state.api_ui_sessions = found
    return found


# Route parameters read these, as in `caller: Caller = WRITE`.
READ = Depends(needs("read"))
WRITE = Depends(needs("write"))
ADMIN = Depends(needs("admin"))
