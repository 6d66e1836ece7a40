"""Who is looking at a UI page: signed session cookies, CSRF tokens, a trusted SSO header.

The session lives entirely in a cookie signed with a key kept in the
database, so every process sharing the database accepts it. It carries the
user, a per-session CSRF token and an expiry read from the runtime clock
(not the host's), so tests can move time past it.

Before login the cookie holds no user, only a CSRF token for the login
form; logging in replaces it with a fresh one, so a token planted before
login is worth nothing after it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer

from tocsin import keys
from tocsin.config.model import Config, User
from tocsin.engine.runtime import Runtime

COOKIE = "tocsin_ui"
# The cookie's path is "/", so it reaches /api/v1 too, which takes a UI
# session; it was "/ui" before, and a cookie left there is deleted.
LEGACY_PATH = "/ui"
KEY_NAME = "ui_session"
LIFETIME = timedelta(hours=12)
TRUSTED_HEADER_ENV = "TOCSIN_TRUSTED_USER_HEADER"
STALE_FORM = ("This form has expired or did not come from Tocsin. "
              "Reload the page and try again.")


@dataclass(frozen=True)
class UiSession:
    user_id: str | None  # None: not logged in yet; the token guards the login form
    csrf: str
    expires: int  # unix seconds


@dataclass(frozen=True)
class Viewer:
    user: User
    session: UiSession
    fresh: bool  # the cookie must be (re)written on the response


def trusted_header_name() -> str | None:
    """The header an SSO proxy sets to the logged-in user, if the operator named one."""
    name = os.environ.get(TRUSTED_HEADER_ENV, "").strip()
    return name or None


class Sessions:
    def __init__(self, runtime: Runtime, *, trusted_header: str | None) -> None:
        self._runtime = runtime
        secret = keys.get_or_create(runtime.sessions, KEY_NAME)
        self._serializer = URLSafeSerializer(secret, salt="tocsin.ui.session")
        self.trusted_header = trusted_header

    def new(self, user_id: str | None) -> UiSession:
        expires = self._runtime.clock.now() + LIFETIME
        return UiSession(user_id, secrets.token_urlsafe(32), int(expires.timestamp()))

    def read(self, request: Request) -> UiSession | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user, csrf, expires = data.get("u"), data.get("c"), data.get("e")
        if not isinstance(csrf, str) or not isinstance(expires, int):
            return None
        if user is not None and not isinstance(user, str):
            return None
        if expires <= self._runtime.clock.now().timestamp():
            return None
        return UiSession(user, csrf, expires)

    def viewer(self, request: Request) -> Viewer | None:
        """The logged-in user, from the trusted header when configured, else the cookie."""
        config = self._runtime.config_now()
        current = self.read(request)
        if self.trusted_header is not None:
            claimed = request.headers.get(self.trusted_header, "").strip()
            if claimed:
                return self._from_proxy(config, claimed, current)
        if current is None or current.user_id is None:
            return None
        user = config.users.get(current.user_id)
        # A user removed from the config loses access at once, cookie or not.
        return Viewer(user, current, fresh=False) if user is not None else None

    def _from_proxy(self, config: Config, claimed: str, current: UiSession | None) -> Viewer | None:
        user = config.user_by_email_or_id(claimed)
        if user is None:
            return None
        if current is not None and current.user_id == user.id:
            return Viewer(user, current, fresh=False)
        # The proxy vouches for the user; a session is still needed for its CSRF token.
        return Viewer(user, self.new(user.id), fresh=True)

    def write(self, response: Response, session: UiSession, *, secure: bool) -> None:
        value = self._serializer.dumps({"u": session.user_id, "c": session.csrf,
                                        "e": session.expires})
        response.set_cookie(COOKIE, value, max_age=int(LIFETIME.total_seconds()), path="/",
                            httponly=True, samesite="lax", secure=secure)
        self._forget_legacy(response, secure=secure)

    def clear(self, response: Response, *, secure: bool) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
        self._forget_legacy(response, secure=secure)

    @staticmethod
    def _forget_legacy(response: Response, *, secure: bool) -> None:
        # Cookies were once scoped to /ui; a stale one there would shadow the new one.
        response.delete_cookie(COOKIE, path=LEGACY_PATH, httponly=True, samesite="lax",
                               secure=secure)


def csrf_ok(session: UiSession | None, presented: str) -> bool:
    if session is None or not presented:
        return False
    return hmac.compare_digest(session.csrf.encode(), presented.encode())


def is_secure(request: Request, config: Config) -> bool:
    """Mark cookies Secure when the UI is served over HTTPS, directly or behind a proxy."""
    return request.url.scheme == "https" or config.public_url.startswith("https://")


def viewer_zone(config: Config, viewer: Viewer) -> ZoneInfo:
    """The zone a person reads times in: their own, else the config's."""
    return ZoneInfo(viewer.user.timezone or config.timezone)
