"""Subscribing to the public status page, and the links mailed to subscribers.

    POST /status/subscribe                            form or JSON; e-mail needs no login,
                                                      a webhook a write-scope token
    GET|POST /status/subscriptions/confirm/{token}    the link in the confirmation
    GET|POST /status/subscriptions/unsubscribe/{token}

A GET only shows a button that posts back: mail scanners open links, and
opening one must not confirm or unsubscribe anybody. Mail clients' one-click
unsubscribe (RFC 8058) posts, so it works without the button.

Without `notifications.email` the page offers no form and an e-mail
subscription is refused (409, saying so): its confirmation could never be sent.

A webhook subscription makes the engine post to an address the subscriber
chose, so only a holder of a write-scope API token may register one: without
that, anyone on the internet could point Tocsin at addresses inside its own
network.

Anyone may post the form, so each client address may subscribe at most
`LIMIT` times an `WINDOW` (429 after that, with Retry-After): one person
cannot make the server mail confirmation requests to a long list of
strangers. The count is per process and starts again on a restart.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from tocsin import keys
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.statuspage import subscribers
from tocsin.statuspage import subscribers_store as db
from tocsin.statuspage.subscribers_store import StatusSubscriber
from tocsin.web import auth
from tocsin.web.body import KIB, decode_json, read_capped
from tocsin.web.errors import error_body

log = logging.getLogger(__name__)

BODY_LIMIT = 8 * KIB
_FIELDS = ("email", "endpoint", "components")
NO_EMAIL = ("This status page cannot send e-mail, so it takes no e-mail subscriptions; "
            "nothing was stored.")
NO_EMAIL_FIX = " To offer them, set notifications.email in Tocsin's configuration."
LIMIT = 10  # subscriptions per client address per WINDOW
WINDOW = timedelta(hours=1)
MAX_CLIENTS = 10_000  # addresses remembered; the oldest are forgotten first
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/status", include_in_schema=False)
    box: dict[str, subscribers.Tokens] = {}
    limiter = PerClient(LIMIT, WINDOW)

    def tokens() -> subscribers.Tokens:
        public_url = runtime.config_now().public_url
        found = box.get("tokens")
        if found is None or found.public_url != public_url.rstrip("/"):
            secret = keys.get_or_create(runtime.sessions, subscribers.KEY_NAME)
            found = box["tokens"] = subscribers.Tokens(secret, public_url, runtime.clock)
        return found

    @router.post("/subscribe")
    async def subscribe(request: Request) -> Response:
        raw = await read_capped(request, BODY_LIMIT)
        as_json = request.headers.get("content-type", "").startswith("application/json")
        client = request.client.host if request.client else ""
        wait = limiter.take(client, runtime.clock.now())
        if wait is not None:
            return _too_many(wait, as_json)
        fields = _json_fields(raw) if as_json else _form_fields(raw)
        config, now = runtime.config_now(), runtime.clock.now()
        if fields.get("email") is not None and config.notifications.email is None:
            # The confirmation could never be sent: say so rather than pretend.
            if as_json:
                raise Conflict(NO_EMAIL + NO_EMAIL_FIX)
            return _page("Not subscribed", f"<p>{escape(NO_EMAIL)}</p>", 409)
        if fields.get("endpoint") is not None:
            auth.require(config, request.headers.get("authorization"), "write")

        def store() -> StatusSubscriber:
            with transaction(runtime.sessions) as session:
                return subscribers.subscribe(session, config=config, now=now, **fields)

        try:
            row = await run_in_threadpool(store)
        except InvalidInput as exc:
            if as_json:
                raise
            items = "".join(f"<li>{escape(p.path)}: {escape(p.message)}</li>"
                            for p in exc.fields)
            return _page("Not subscribed", f"<ul>{items}</ul>", 400)
        if as_json:
            body: dict[str, Any] = {"id": str(row.id), "kind": row.kind,
                                    "components": list(row.components),
                                    "status": "active" if row.confirmed_at else
                                    "pending_confirmation"}
            if row.kind == db.WEBHOOK:
                body["secret"] = row.secret  # shown once: it signs every post
            return JSONResponse(body, status_code=202, headers={"Cache-Control": "no-store"})
        if row.kind == db.EMAIL:
            return _page("Check your e-mail", "<p>We sent a link to confirm the "
                         "subscription. Nothing else is sent until it is followed.</p>", 202)
        return _page("Subscribed", "<p>The endpoint will receive signed posts.</p>", 202)

    @router.get("/subscriptions/confirm/{token}")
    def confirm_form(token: str) -> HTMLResponse:
        return _button("Confirm your subscription", "Confirm")

    @router.post("/subscriptions/confirm/{token}")
    async def confirm(token: str) -> HTMLResponse:
        return await _act(lambda: tokens().check_confirm(token), subscribers.confirm,
                          "Subscribed", "You will be told of incidents on this page.")

    @router.get("/subscriptions/unsubscribe/{token}")
    def unsubscribe_form(token: str) -> HTMLResponse:
        return _button("Unsubscribe", "Unsubscribe")

    @router.post("/subscriptions/unsubscribe/{token}")
    async def unsubscribe(token: str) -> HTMLResponse:
        return await _act(lambda: tokens().check_unsubscribe(token), subscribers.unsubscribe,
                          "Unsubscribed", "Nothing more will be sent to you.")

    async def _act(check: Callable[[], int], change: Callable[..., StatusSubscriber],
                   title: str, text: str) -> HTMLResponse:
        try:
            subscriber_id = check()
        except subscribers.TokenError as exc:
            return _page("Link not valid", f"<p>{escape(str(exc))}</p>", 400)
        now = runtime.clock.now()

        def store() -> None:
            with transaction(runtime.sessions) as session:
                change(session, subscriber_id, now=now)

        try:
            await run_in_threadpool(store)
        except NotFound as exc:
            return _page("Link not valid", f"<p>{escape(str(exc))}</p>", 404)
        return _page(title, f"<p>{escape(text)}</p>", 200)

    return router


class PerClient:
    """At most `limit` requests per client in any `window`, counted in this process."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit, self.window = limit, window
        self._lock = threading.Lock()
        self._seen: dict[str, deque[datetime]] = {}

    def take(self, client: str, now: datetime) -> timedelta | None:
        """Count one request; None if allowed, else how long until one more is."""
        with self._lock:
            times = self._seen.pop(client, None) or deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            self._seen[client] = times  # last: the dict's order is oldest use first
            if len(times) >= self.limit:
                return times[0] + self.window - now
            times.append(now)
            while len(self._seen) > MAX_CLIENTS:
                del self._seen[next(iter(self._seen))]
            return None


def _too_many(wait: timedelta, as_json: bool) -> Response:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    headers = {**HEADERS, "Retry-After": str(max(1, math.ceil(wait.total_seconds())))}
    message = (f"too many subscriptions from your address; try again in {minutes} "
               f"minute{'s' if minutes != 1 else ''}")
    if as_json:
        return JSONResponse(error_body("rate_limited", message), status_code=429,
                            headers={"Retry-After": headers["Retry-After"],
                                     "Cache-Control": "no-store"})
    return _page("Too many requests", f"<p>{escape(message.capitalize())}.</p>", 429,
                 headers)


def _json_fields(raw: bytes) -> dict[str, Any]:
    data = decode_json(raw)
    if not isinstance(data, dict):
        raise InvalidInput('body must be a JSON object, such as {"email": "ann@example.com"}')
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]}; use {', '.join(_FIELDS)}")
    return {name: data[name] for name in _FIELDS if name in data}


def _form_fields(raw: bytes) -> dict[str, Any]:
    pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    fields: dict[str, Any] = {}
    chosen = [value for name, value in pairs if name == "component" and value]
    for name, value in pairs:
        if name in ("email", "endpoint") and value.strip():
            fields[name] = value
    if chosen:
        fields["components"] = chosen
    return fields


def _button(title: str, label: str) -> HTMLResponse:
    return _page(title, f'<form method="post"><button type="submit">{escape(label)}'
                        "</button></form>", 200)


def _page(title: str, body: str, status: int, headers: dict[str, str] = HEADERS
          ) -> HTMLResponse:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title><link rel="stylesheet" href="/static/status.css">'
            f"</head><body><main><h1>{escape(title)}</h1>{body}"
            f'<p><a href="/status/">Back to the status page</a></p></main></body></html>')
    return HTMLResponse(html, status_code=status, headers=headers)
