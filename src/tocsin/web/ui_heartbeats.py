"""The UI's heartbeats page: each configured heartbeat, its last ping and its state.

It shows what `GET /api/v1/heartbeats` answers (the same listing), with
times in the reader's zone and a link to the open alert of a missed one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tocsin.web import ui_maintenance_views as views
from tocsin.web.heartbeats_api import listed
from tocsin.web.ui_session import viewer_zone

if TYPE_CHECKING:
    from tocsin.web.ui import Pages


def add_routes(router: APIRouter, pages: Pages) -> None:
    runtime = pages.runtime

    @router.get("/heartbeats", response_class=HTMLResponse)
    def heartbeats_page(request: Request) -> Response:
        viewer = pages.sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        config, now = runtime.config_now(), runtime.clock.now()
        zone = viewer_zone(config, viewer)
        items = [views.heartbeat_item(item, zone, now) for item in listed(runtime)]
        return pages.render(request, "heartbeats.html", viewer=viewer, title="Heartbeats",
                            nav="heartbeats", zone=zone.key, heartbeats=items,
                            now=views.local(now, zone),
                            missed=sum(1 for item in items if item["state"] == "missed"))
