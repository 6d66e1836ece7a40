"""Storm bundles on the web: the acknowledge-all link in a bundle, and the API.

`/b/{token}` is the signed link a bundle carries. Like an alert's link, GET
only shows what it would do (mail scanners and unfurlers only GET) and the
button posts back, acting as the person the bundle went to.
`POST /api/v1/bundles/{id}/acknowledge` does the same with a write token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from tocsin.alerts import bundles
from tocsin.alerts.store import TRIGGERED
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import NotFound
from tocsin.links import LinkError
from tocsin.web.auth import READ, WRITE, Caller
from tocsin.web.links import render_page

# Alerts the confirm page names one by one; the rest are counted.
SHOWN = 50


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.get("/b/{token}", response_class=HTMLResponse)
    def confirm(token: str) -> HTMLResponse:
        try:
            claim = runtime.links.check_bundle(token)
        except LinkError as exc:
            return _render(403, heading="Link not valid", message=str(exc))
        with runtime.sessions() as session:
            try:
                found = bundles.get_bundle(session, claim.bundle_id)
            except NotFound:
                return _render(404, heading="Bundle not found", message="it no longer exists")
            heading = bundles.bundle_name(found)
            alerts = bundles.listed_alerts(session, claim.bundle_id)
        open_alerts = [alert for alert in alerts if alert.status == TRIGGERED]
        message = (f"{len(open_alerts)} of the {len(alerts)} alerts in this bundle are "
                   "still open." if open_alerts else "Every alert in this bundle is already "
                   "acknowledged or resolved.")
        return _render(heading=heading[:1].upper() + heading[1:], message=message,
                       alerts=open_alerts[:SHOWN], more=max(0, len(open_alerts) - SHOWN),
                       count=len(open_alerts), user=claim.user_id)

    @router.post("/b/{token}", response_class=HTMLResponse)
    def act(token: str, action: str = Form("")) -> HTMLResponse:
        try:
            claim = runtime.links.check_bundle(token)
        except LinkError as exc:
            return _render(403, heading="Link not valid", message=str(exc))
        if action != "acknowledge":
            return _render(400, heading="Unknown action",
                           message="use the Acknowledge all button")
        try:
            with transaction(runtime.sessions) as session:
                done = bundles.acknowledge_bundle(
                    session, config=runtime.config_now(), bundle_id=claim.bundle_id,
                    actor=claim.user_id, surface="link", now=runtime.clock.now())
        except NotFound:
            return _render(404, heading="Bundle not found", message="it no longer exists")
        runtime.engine.wake()
        return _render(heading="Done", message=_said(done))

    @router.get("/api/v1/bundles/{bundle_id}")
    def get_bundle(bundle_id: int, _caller: Caller = READ) -> dict[str, Any]:
        with runtime.sessions() as session:
            return bundles.bundle_json(session, bundles.get_bundle(session, bundle_id))

    @router.post("/api/v1/bundles/{bundle_id}/acknowledge")
    def acknowledge(bundle_id: int, caller: Caller = WRITE) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            done = bundles.acknowledge_bundle(
                session, config=runtime.config_now(), bundle_id=bundle_id, actor=caller.actor,
                surface=caller.surface, now=runtime.clock.now())
        runtime.engine.wake()
        return done.as_json()

    return router


def _render(status: int = 200, **context: object) -> HTMLResponse:
    return render_page("bundle.html", status, **context)


def _said(done: bundles.BundleAck) -> str:
    parts = [f"Acknowledged {len(done.acknowledged)} alert"
             f"{'s' if len(done.acknowledged) != 1 else ''}."]
    if done.already:
        parts.append(f"{len(done.already)} had been acknowledged already.")
    if done.resolved:
        parts.append(f"{len(done.resolved)} were resolved and are left as they are.")
    return " ".join(parts)
