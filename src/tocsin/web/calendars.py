"""Calendar feeds at capability URLs, and the API that lists them.

A feed URL is `/calendars/<token>.ics`, where the token is an HMAC-SHA256
of "schedule:<name>" or "user:<id>" under a secret kept in the database.
Calendar apps cannot send a bearer token, so the URL itself is the
credential: unguessable, yet the same on every process and restart, so a
subscription keeps working. A wrong token is a bare 404 that does not say
whether the schedule or user exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from tocsin import keys
from tocsin.config.model import Config
from tocsin.engine.runtime import Runtime
from tocsin.errors import NotFound
from tocsin.oncall import service
from tocsin.oncall.calendar import FeedEntry, feed_window, render
from tocsin.web.auth import READ, Caller

CALENDAR_FEED = "calendar_feed"  # the name of the secret in tocsin.keys
MEDIA_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class Feed:
    kind: str  # "schedule" | "user"
    name: str  # schedule name or user id

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.name}"


def feed_token(secret: str, feed: Feed) -> str:
    digest = hmac.new(secret.encode(), feed.subject.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def all_feeds(config: Config) -> list[Feed]:
    return [Feed("schedule", name) for name in sorted(config.schedules)] + [
        Feed("user", user_id) for user_id in sorted(config.users)
    ]


def find_feed(config: Config, secret: str, presented: str) -> Feed | None:
    found = None
    for feed in all_feeds(config):
        # Check every feed so the time taken says nothing about which matched.
        if hmac.compare_digest(feed_token(secret, feed).encode(), presented.encode()):
            found = feed
    return found


def feed_body(session: Session, config: Config, feed: Feed, now: datetime) -> bytes:
    start, end = feed_window(now)
    if feed.kind == "schedule":
        schedule = config.schedules[feed.name]
        entries = [FeedEntry(schedule.name, shift)
                   for shift in service.final_shifts(session, schedule, start, end)]
        return render(name=f"On call: {schedule.name}", timezone=schedule.timezone,
                      entries=entries, users=config.users, now=now)
    user = config.users[feed.name]
    entries = [
        FeedEntry(schedule.name, shift)
        for schedule in config.schedules.values()
        for shift in service.final_shifts(session, schedule, start, end)
        if shift.user == user.id
    ]
    return render(name=f"On call: {user.display}", timezone=user.timezone or config.timezone,
                  entries=entries, users=config.users, now=now)


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    cache: dict[str, str] = {}

    def secret() -> str:
        if "value" not in cache:
            cache["value"] = keys.get_or_create(runtime.sessions, CALENDAR_FEED)
        return cache["value"]

    @router.get("/calendars/{token}.ics", include_in_schema=False)
    def calendar_feed(token: str) -> Response:
        config = runtime.config_now()
        feed = find_feed(config, secret(), token)
        if feed is None:
            raise NotFound("not found")
        with runtime.sessions() as session:
            body = feed_body(session, config, feed, runtime.clock.now())
        return Response(body, media_type=MEDIA_TYPE, headers={
            "Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer",
        })

    @router.get("/api/v1/calendars")
    def list_calendars(_caller: Caller = READ) -> dict[str, Any]:
        config = runtime.config_now()
        base = config.public_url.rstrip("/")
        listed: dict[str, list[dict[str, str]]] = {"schedules": [], "users": []}
        for feed in all_feeds(config):
            url = f"{base}/calendars/{feed_token(secret(), feed)}.ics"
            listed[feed.kind + "s"].append({
                feed.kind: feed.name, "url": url, "webcal": _webcal(url),
            })
        return listed

    return router


def _webcal(url: str) -> str:
    """The same URL with the scheme calendar apps open as a subscription."""
    return "webcal://" + url.split("://", 1)[-1]
