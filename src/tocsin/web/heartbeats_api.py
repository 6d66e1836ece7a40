"""`GET /api/v1/heartbeats`: every configured heartbeat, its last ping and its state.

A read token (or a UI session) reads it. Keys are never shown. The
start-up grace is this process's engine's: with several processes each
counts its own, as docs/heartbeats.md says.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tocsin.alerts import heartbeat_list
from tocsin.engine.runtime import Runtime
from tocsin.web.auth import READ, Caller


def listed(runtime: Runtime) -> list[heartbeat_list.Listed]:
    """The heartbeats as the engine of this process sees them now."""
    watched = runtime.engine.heartbeats_watched_since()
    with runtime.sessions() as session:
        return heartbeat_list.list_heartbeats(session, config=runtime.config_now(),
                                              watched_since=watched, now=runtime.clock.now())


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1/heartbeats")

    @router.get("")
    def list_heartbeats(_caller: Caller = READ) -> dict[str, Any]:
        return {"heartbeats": [heartbeat_list.describe(item) for item in listed(runtime)]}

    return router
