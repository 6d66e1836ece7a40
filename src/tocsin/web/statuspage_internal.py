"""The internal status page at `/ui/status`: the public page plus internal components.

Behind the web UI's login (a session cookie, or the SSO proxy's header):
anyone signed in may read it. It is never cached and never indexed. It
renders the public page's template from the internal view, marking each
internal component, so both pages look alike and differ only in what they show.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tocsin.engine.runtime import Runtime
from tocsin.statuspage import view
from tocsin.web import statuspage_page
from tocsin.web.ui_session import Sessions, trusted_header_name

_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/ui/status", include_in_schema=False)
    found: list[Sessions] = []

    def sessions() -> Sessions:
        # Made on first use: it reads (or makes) the session key in the database.
        if not found:
            found.append(Sessions(runtime, trusted_header=trusted_header_name()))
        return found[0]

    @router.get("", response_class=HTMLResponse)
    def internal_page(request: Request) -> Response:
        if sessions().viewer(request) is None:
            return RedirectResponse(f"/ui/login?next={quote('/ui/status')}", status_code=303)
        config = runtime.config_now()
        with runtime.sessions() as session:
            shown = view.page(session, config=config, now=runtime.clock.now(), internal=True)
        internal = {c.name for c in config.components if not c.public}
        body = statuspage_page.render_main(shown, internal=internal)
        return HTMLResponse(body, headers={**statuspage_page.HEADERS, **_HEADERS})

    return router
