"""Bearer tokens for the REST API, checked in constant time."""

from __future__ import annotations

import hmac

from tocsin.config.model import ApiToken, Config
from tocsin.errors import Forbidden, Unauthorized

_RANK = {"read": 0, "write": 1, "admin": 2}


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
    if _RANK[token.scope] < _RANK[scope]:
        raise Forbidden(f"this token has scope {token.scope}; this call needs {scope}")
    return token


def actor(token: ApiToken) -> str:
    return token.user or f"token:{token.name}"
