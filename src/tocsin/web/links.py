"""Signed links in notifications: GET shows a confirm page, POST acts.

Mail scanners and link unfurlers only GET, so opening a link never changes
anything; the button on the page posts back, acting as the person the page
was sent to.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tocsin.alerts import service
from tocsin.alerts.store import RESOLVED, TRIGGERED
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import Conflict, NotFound
from tocsin.links import LinkError

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _render(status: int = 200, **context: object) -> HTMLResponse:
    return render_page("link.html", status, **context)


def render_page(template: str, status: int = 200, **context: object) -> HTMLResponse:
    """A page a signed link opens (an alert's, a bundle's), with the headers such pages need."""
    html = _TEMPLATES.get_template(template).render(**context)
    headers = {
        "Cache-Control": "no-store",
        # The page acts as the person paged: no other site may frame it.
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   "form-action 'self'; frame-ancestors 'none'",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.get("/a/{token}", response_class=HTMLResponse)
    def confirm(token: str) -> HTMLResponse:
        try:
            claim = runtime.links.check(token)
        except LinkError as exc:
            return _render(403, heading="Link not valid", message=str(exc))
        with runtime.sessions() as session:
            try:
                alert = service.get_alert(session, claim.alert_id)
            except NotFound:
                return _render(404, heading="Alert not found", message="it no longer exists")
            actions = _actions(alert.status)
            return _render(heading="Alert", alert=alert, actions=actions, user=claim.user_id)

    @router.post("/a/{token}", response_class=HTMLResponse)
    def act(token: str, action: str = Form("")) -> HTMLResponse:
        try:
            claim = runtime.links.check(token)
        except LinkError as exc:
            return _render(403, heading="Link not valid", message=str(exc))
        if action not in ("acknowledge", "resolve"):
            return _render(400, heading="Unknown action",
                           message="use the Acknowledge or Resolve button")
        config = runtime.config_now()
        act_on = service.acknowledge if action == "acknowledge" else service.resolve
        try:
            with transaction(runtime.sessions) as session:
                alert = act_on(session, config=config, alert_id=claim.alert_id,
                               actor=claim.user_id, surface="link", now=runtime.clock.now())
                done = f"{'Acknowledged' if action == 'acknowledge' else 'Resolved'}."
                page = _render(heading="Done", alert=alert, message=done,
                               actions=_actions(alert.status), user=claim.user_id)
        except Conflict as exc:
            return _render(409, heading="Nothing to do", message=str(exc))
        except NotFound:
            return _render(404, heading="Alert not found", message="it no longer exists")
        runtime.engine.wake()
        return page

    return router


def _actions(status: str) -> list[str]:
    if status == TRIGGERED:
        return ["acknowledge", "resolve"]
    if status != RESOLVED:
        return ["resolve"]
    return []
