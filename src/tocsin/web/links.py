"""Signed links in notifications: GET shows a confirm page, POST acts.

Mail scanners and link unfurlers only GET, so opening a link never changes
anything; the buttons on the page post back, acting as the person the page
was sent to: acknowledge, snooze (15, 30, 60 or 240 minutes), escalate now,
unacknowledge (when acknowledged), reassign (to a person or schedule), add a
responder (person, schedule or policy; not once acknowledged) and resolve,
through alerts.answers with the surface "link".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tocsin.alerts import answers, service
from tocsin.alerts.reply_rules import (
    ACK,
    ADD,
    DEFAULT_SNOOZE_MINUTES,
    ESCALATE,
    REASSIGN,
    RESOLVE,
    SNOOZE,
    UNACK,
)
from tocsin.alerts.store import ACKNOWLEDGED, TRIGGERED
from tocsin.config import answer_targets
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import Conflict, NotFound
from tocsin.links import LinkError

# The page's form values and the verbs they ask for.
_VERBS = {"acknowledge": ACK, "resolve": RESOLVE, "snooze": SNOOZE, "escalate": ESCALATE,
          "unacknowledge": UNACK, "reassign": REASSIGN, "responder": ADD}
_LABELS = {"acknowledge": "Acknowledge", "resolve": "Resolve", "snooze": "Snooze",
           "escalate": "Escalate now", "unacknowledge": "Unacknowledge",
           "reassign": "Reassign", "responder": "Add responder"}
# Who each targeted form value may name.
_TARGET_KINDS = {"reassign": answer_targets.REASSIGN_KINDS,
                 "responder": answer_targets.RESPONDER_KINDS}
# The snooze lengths the page offers: form value, minutes.
SNOOZE_CHOICES = {"15": 15, "30": 30, "60": 60, "240": 240}

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
            return _render(heading="Alert", alert=alert, actions=actions, user=claim.user_id,
                           **_choices(runtime.config_now()))

    @router.post("/a/{token}", response_class=HTMLResponse)
    def act(token: str, action: str = Form(""), minutes: str = Form(""),
            target: str = Form("")) -> HTMLResponse:
        try:
            claim = runtime.links.check(token)
        except LinkError as exc:
            return _render(403, heading="Link not valid", message=str(exc))
        verb = _VERBS.get(action)
        if verb is None:
            return _render(400, heading="Unknown action",
                           message="use one of the buttons on the alert's page")
        snooze_for = SNOOZE_CHOICES.get(minutes, 0) if verb == SNOOZE else 0
        if verb == SNOOZE and not snooze_for:
            choices = ", ".join(SNOOZE_CHOICES)
            return _render(400, heading="Snooze for how long?",
                           message=f"minutes: choose one of {choices}")
        config = runtime.config_now()
        chosen = None
        if action in _TARGET_KINDS:
            kinds = _TARGET_KINDS[action]
            chosen = answer_targets.from_code(config, target, kinds)
            if chosen is None:
                return _render(400, heading=f"{_LABELS[action]}: to whom?", message=(
                    f"target: choose a {answer_targets.nouns(kinds)} from the list on the "
                    "alert's page (u:NAME, s:NAME or p:NAME as this Tocsin defines them); "
                    "nothing was changed"))
        try:
            with transaction(runtime.sessions) as session:
                done = answers.answer(session, config=config, verb=verb,
                                      alert_id=claim.alert_id, actor=claim.user_id,
                                      surface="link", now=runtime.clock.now(),
                                      minutes=snooze_for or DEFAULT_SNOOZE_MINUTES,
                                      target=chosen)
                page = _render(heading="Done" if done.changed else "Nothing to do",
                               alert=done.alert, message=done.said,
                               actions=_actions(done.alert.status), user=claim.user_id,
                               **_choices(config))
        except Conflict as exc:
            return _render(409, heading="Nothing to do", message=f"{exc}; nothing was changed")
        except NotFound:
            return _render(404, heading="Alert not found", message="it no longer exists")
        if done.changed:
            runtime.engine.wake()
        return page

    return router


def _choices(config: Config) -> dict[str, Any]:
    """The menus the page's forms show: snooze lengths, and targets under headings."""
    return {"snooze_choices": SNOOZE_CHOICES,
            "target_choices": {action: answer_targets.grouped(config, kinds)
                               for action, kinds in _TARGET_KINDS.items()}}


def _actions(status: str) -> list[tuple[str, str]]:
    """The buttons for an alert in `status`: (form value, label).

    No add responder once acknowledged: the responder's page would not be sent.
    """
    if status == TRIGGERED:
        names = ["acknowledge", "snooze", "escalate", "reassign", "responder", "resolve"]
    elif status == ACKNOWLEDGED:
        names = ["snooze", "escalate", "unacknowledge", "reassign", "resolve"]
    else:
        names = []
    return [(name, _LABELS[name]) for name in names]
