"""The status page's routers, sharing one answer cache (see `statuspage_cache`)."""

from __future__ import annotations

from fastapi import APIRouter

from tocsin.engine.runtime import Runtime
from tocsin.web import (
    statuspage_api,
    statuspage_feeds,
    statuspage_internal,
    statuspage_page,
    statuspage_subscribe,
)
from tocsin.web.statuspage_cache import PageCache, forget_on_commit


def build_routers(runtime: Runtime) -> list[APIRouter]:
    cache = PageCache()
    forget_on_commit(runtime.sessions, cache)
    return [statuspage_api.build_router(runtime, cache),
            statuspage_api.build_public_router(runtime, cache),
            statuspage_page.build_router(runtime, cache),
            statuspage_feeds.build_router(runtime, cache),
            statuspage_internal.build_router(runtime),
            statuspage_subscribe.build_router(runtime)]
