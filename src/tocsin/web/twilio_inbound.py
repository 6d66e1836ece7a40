"""Twilio's webhooks: the keypad answer to a call, text replies, delivery reports.

    POST /twilio/voice/{link token}   Digits=1 acknowledges as the person called
    POST /twilio/sms                  "ACK 42" / "RES 42" from a user's own number
    POST /twilio/status[/{delivery}]  MessageStatus / CallStatus reports

Every request must carry a valid `X-Twilio-Signature` for the URL under
`public_url` (notify.twilio_signature), else 403; without
`notifications.twilio` configured the routes answer 404. Replies are TwiML.
"""

from __future__ import annotations

import html
import logging
import re

from fastapi import APIRouter, Request, Response

from tocsin.alerts import service
from tocsin.config.model import Config, TwilioProvider
from tocsin.config.phones import e164
from tocsin.db import transaction
from tocsin.engine.delivery_status import find_delivery, provider_failed
from tocsin.engine.runtime import Runtime
from tocsin.errors import Conflict, NotFound
from tocsin.links import LinkError
from tocsin.logs import event
from tocsin.notify.twilio import VOICE_ACK_PATH
from tocsin.notify.twilio_signature import is_valid

logger = logging.getLogger(__name__)

_REPLY = re.compile(r"\s*(ack|acknowledge|res|resolve)\s*#?\s*(\d{1,12})\s*[.!]?\s*", re.I)
_SMS_FAILED = frozenset({"undelivered", "failed"})
_CALL_FAILED = frozenset({"no-answer", "busy", "failed"})
_TWIML = "application/xml"
SMS_HELP = "Tocsin: reply ACK 42 to acknowledge alert 42, RES 42 to resolve it."


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def checked(request: Request) -> tuple[Config, TwilioProvider, dict[str, str]]:
        config = runtime.config_now()
        provider = config.notifications.twilio
        if provider is None:
            raise _Refused(404)
        form = await request.form()
        params = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        url = config.public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not is_valid(url, params, provider.auth_token,
                        request.headers.get("X-Twilio-Signature")):
            event(logger, "twilio.signature_refused", logging.WARNING, path=request.url.path,
                  signed="X-Twilio-Signature" in request.headers)
            raise _Refused(403)
        return config, provider, dict(params)

    @router.post(VOICE_ACK_PATH + "{token}")
    async def keypad(token: str, request: Request) -> Response:
        try:
            config, _provider, form = await checked(request)
        except _Refused as refused:
            return Response(status_code=refused.status)
        return _twiml(_keypad_answer(runtime, config, token, form.get("Digits", "")))

    @router.post("/twilio/sms")
    async def sms(request: Request) -> Response:
        try:
            config, _provider, form = await checked(request)
        except _Refused as refused:
            return Response(status_code=refused.status)
        text = _sms_answer(runtime, config, form.get("From", ""), form.get("Body", ""))
        return _twiml(f"<Message>{_xml(text)}</Message>")

    @router.post("/twilio/status")
    @router.post("/twilio/status/{delivery_id}")
    async def status(request: Request, delivery_id: int | None = None) -> Response:
        try:
            config, _provider, form = await checked(request)
        except _Refused as refused:
            return Response(status_code=refused.status)
        _delivery_report(runtime, config, delivery_id, form)
        return Response(status_code=204)

    return router


def _keypad_answer(runtime: Runtime, config: Config, token: str, digits: str) -> str:
    try:
        claim = runtime.links.check(token)
    except LinkError:
        return "<Say>This page can no longer be acknowledged by phone. Goodbye.</Say>"
    if not digits:
        return "<Say>No key was pressed. Goodbye.</Say>"
    if digits != "1":
        action = _xml(config.public_url.rstrip("/") + VOICE_ACK_PATH + token)
        return (f'<Gather numDigits="1" action="{action}" method="POST" timeout="10">'
                "<Say>Press 1 to acknowledge.</Say></Gather><Say>Goodbye.</Say>")
    said = _act(runtime, config, "ack", claim.alert_id, claim.user_id, "phone")
    return f"<Say>{_xml(said)}</Say>"


def _sms_answer(runtime: Runtime, config: Config, sender: str, body: str) -> str:
    user_id = _user_by_number(config, sender)
    if user_id is None:
        event(logger, "twilio.sms_unknown_sender", logging.WARNING)
        return "Tocsin: this number is not on any Tocsin user's contacts; nothing was changed."
    match = _REPLY.fullmatch(body)
    if match is None:
        return SMS_HELP
    verb = "ack" if match.group(1).lower().startswith("ack") else "res"
    return "Tocsin: " + _act(runtime, config, verb, int(match.group(2)), user_id, "sms")


def _act(runtime: Runtime, config: Config, verb: str, alert_id: int, user_id: str,
         surface: str) -> str:
    """Acknowledge or resolve as `user_id`; the sentence to say or text back."""
    act_on = service.acknowledge if verb == "ack" else service.resolve
    try:
        with transaction(runtime.sessions) as session:
            alert = act_on(session, config=config, alert_id=alert_id, actor=user_id,
                           surface=surface, now=runtime.clock.now())
            by = alert.acknowledged_by if verb == "ack" else alert.resolved_by
    except Conflict as exc:
        return f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    except NotFound:
        return f"Alert {alert_id} does not exist."
    runtime.engine.wake()
    done = "acknowledged" if verb == "ack" else "resolved"
    if by != user_id:
        return f"Alert {alert_id} was already {done} by {by}."
    return f"Alert {alert_id} {done}." if surface == "sms" else f"{done.capitalize()}."


def _user_by_number(config: Config, number: str) -> str | None:
    wanted = e164(number)
    if wanted is None:
        return None
    for user in config.users.values():
        if e164(user.contacts.get("sms", "")) == wanted:
            return user.id
    return None


def _delivery_report(runtime: Runtime, config: Config, delivery_id: int | None,
                     form: dict[str, str]) -> None:
    reported = form.get("MessageStatus") or form.get("CallStatus") or ""
    answered_by = form.get("AnsweredBy", "")
    failed = reported in _SMS_FAILED or reported in _CALL_FAILED
    if answered_by.startswith("machine"):
        failed, reported = True, "answered by voicemail"
    if not failed:
        return
    sid = form.get("MessageSid") or form.get("CallSid")
    detail = f"Twilio reported the page {reported}"
    if form.get("ErrorCode"):
        detail += f" (error {form['ErrorCode'][:10]})"
    with transaction(runtime.sessions) as session:
        row = find_delivery(session, delivery_id=delivery_id, provider_id=sid)
        if row is None:
            event(logger, "twilio.status_unknown_delivery", logging.WARNING,
                  delivery_id=delivery_id, provider_id=sid)
            return
        changed = provider_failed(session, config=config, delivery=row, detail=detail,
                                  now=runtime.clock.now())
    if changed:
        runtime.engine.wake()


def _twiml(inner: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
    return Response(body, media_type=_TWIML)


def _xml(text: str) -> str:
    return html.escape(text, quote=True)
