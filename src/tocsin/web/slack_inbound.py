"""The Slack app's request URLs: button clicks, events, slash commands.

    POST /slack/interactions  a click on a page message (form field `payload`), or on a
                              shift survey's buttons (web.slack_surveys)
    POST /slack/events        Events API; answers `url_verification`, pins a message to an
                              incident's timeline on a reaction (web.slack_pins), ignores the rest
    POST /slack/commands      `/oncall [schedule]`; `/incident ...` and `/page ...`
                              (web.slack_incidents); any other command gets the help

Every request must carry Slack's signature over its raw body
(notify.slack_signature) with a timestamp within five minutes of the
engine's clock, else 401; without `notifications.slack.signing_secret` the
routes answer 404. A click always gets 200: what went wrong is told to the
clicker in Slack, after the HTTP answer, through the configured `api_url`.
A click acts once: a repeat of a signed request (Slack retries, or a replay)
gets 200 and changes nothing (alerts.replay_store).
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from tocsin.config.model import Config, SlackProvider
from tocsin.engine.runtime import Runtime
from tocsin.logs import event
from tocsin.notify import slack_signature
from tocsin.notify.slack import target_menus
from tocsin.notify.slack_replies import SlackReplies
from tocsin.web import slack_actions, slack_commands, slack_incidents, slack_pins, slack_surveys
from tocsin.web.body import KIB, MIB, read_capped

logger = logging.getLogger(__name__)

# A click's payload repeats the whole message (up to 50 blocks of 3000 characters).
_PAYLOAD_LIMIT = MIB
_COMMAND_LIMIT = 16 * KIB


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def signed(request: Request, limit: int) -> tuple[Config, SlackProvider, bytes]:
        config = runtime.config_now()
        provider = config.notifications.slack
        if provider is None or not provider.signing_secret:
            raise _Refused(Response(status_code=404))
        body = await read_capped(request, limit)
        why = slack_signature.problem(
            provider.signing_secret, body=body, now=runtime.clock.now(),
            timestamp=request.headers.get("X-Slack-Request-Timestamp"),
            signed=request.headers.get("X-Slack-Signature"))
        if why is not None:
            event(logger, "slack.signature_refused", logging.WARNING, path=request.url.path,
                  reason=why)
            raise _Refused(JSONResponse({"error": {
                "code": "unauthorized", "message": f"Slack signature refused: {why}"}},
                status_code=401))
        return config, provider, body

    @router.post("/slack/interactions")
    async def interactions(request: Request, background: BackgroundTasks) -> Response:
        try:
            config, provider, body = await signed(request, _PAYLOAD_LIMIT)
        except _Refused as refused:
            return refused.response
        payload = _form(body).get("payload")
        survey_click = slack_surveys.read_click(payload)
        if survey_click is not None:
            reply = await run_in_threadpool(slack_surveys.answer, runtime, config, survey_click,
                                            request.headers.get("X-Slack-Signature"))
            if reply is not None:
                background.add_task(slack_surveys.deliver, SlackReplies(provider), reply)
            return Response(status_code=200)
        click = slack_actions.read_click(payload)
        if click is not None:
            # The signature is unique per timestamp and body: a retry or a replay repeats it.
            found = await run_in_threadpool(slack_actions.answer, runtime, config, click,
                                            request.headers.get("X-Slack-Signature"))
            if found is not None:
                # After the answer: Slack shows an error to a click not answered in 3 s.
                background.add_task(slack_actions.deliver,
                                    SlackReplies(provider, menus=target_menus(config)), found)
        return Response(status_code=200)

    @router.post("/slack/events")
    async def events(request: Request, background: BackgroundTasks) -> Response:
        try:
            config, provider, body = await signed(request, _PAYLOAD_LIMIT)
        except _Refused as refused:
            return refused.response
        pin = slack_pins.read_pin(provider, body)
        if pin is not None:
            # After the answer: reading the message back from Slack may take a while.
            background.add_task(slack_pins.pin, runtime, config, provider, pin)
            return Response(status_code=200)
        return _event_answer(body)

    @router.post("/slack/commands")
    async def commands(request: Request) -> Response:
        try:
            config, _provider, body = await signed(request, _COMMAND_LIMIT)
        except _Refused as refused:
            return refused.response
        form = _form(body)
        event(logger, "slack.command_answered", command=form.get("command", "")[:40],
              slack_user=form.get("user_id", "")[:40])
        if form.get("command", "").strip().lower() in slack_incidents.COMMANDS:
            reply = await run_in_threadpool(slack_incidents.answer, runtime, config, form,
                                            request.headers.get("X-Slack-Signature"))
            return JSONResponse(reply.body())
        text = await run_in_threadpool(slack_commands.answer, runtime, config,
                                       form.get("command", ""), form.get("text", ""))
        return JSONResponse({"response_type": "ephemeral", "text": text})

    return router


def _form(body: bytes) -> dict[str, str]:
    text = body.decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _event_answer(body: bytes) -> Response:
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return JSONResponse({"error": {"code": "invalid_input",
                                       "message": "body is not a JSON object"}}, 400)
    if data.get("type") == "url_verification":
        challenge = data.get("challenge")
        if not isinstance(challenge, str):
            return JSONResponse({"error": {"code": "invalid_input",
                                           "message": "challenge: give the string to echo"}}, 400)
        event(logger, "slack.url_verified")
        return JSONResponse({"challenge": challenge})
    inner = data.get("event")
    kind = inner.get("type") if isinstance(inner, dict) else data.get("type")
    event(logger, "slack.event_ignored", type=str(kind)[:40])
    return Response(status_code=200)
