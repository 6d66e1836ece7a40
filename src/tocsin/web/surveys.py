"""Answering the shift survey: its signed e-mail links and the API.

    GET  /survey/{token}         shows the score the link carries, with a confirm button
    POST /survey/{token}         records it, as the person the survey was sent to
    GET  /api/v1/surveys/{id}    the survey (its person, or an admin)
    POST /api/v1/surveys/{id}    {"score": 1..5}, only for the person it was sent to

Someone else's survey answers 404 to both API verbs, as if it were not there;
an admin sees every survey but still answers only their own (403).
Mail scanners only GET, so opening a link records nothing. The answer page shows the
shift in the person's own zone (their `timezone`, else the file's), naming it.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import Forbidden, NotFound
from tocsin.links import LinkError, SurveyClaim
from tocsin.metrics import survey_service
from tocsin.metrics.store import ShiftSurvey
from tocsin.notify.surveys import LABELS
from tocsin.web.auth import READ, WRITE, Caller
from tocsin.web.body import KIB, decode_json, read_capped
from tocsin.web.links import render_page

_BODY_LIMIT = 4 * KIB


def _page(status: int = 200, **context: object) -> HTMLResponse:
    return render_page("survey.html", status, **context)


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    def claim_of(token: str) -> SurveyClaim | HTMLResponse:
        try:
            claim = runtime.links.check_survey(token)
        except LinkError as exc:
            return _page(403, heading="Link not valid", message=str(exc))
        if claim.score not in LABELS:
            return _page(403, heading="Link not valid", message="this link is not valid")
        return claim

    @router.get("/survey/{token}", response_class=HTMLResponse, include_in_schema=False)
    def confirm(token: str) -> HTMLResponse:
        claim = claim_of(token)
        if isinstance(claim, HTMLResponse):
            return claim
        with runtime.sessions() as session:
            try:
                survey = survey_service.get_survey(session, claim.survey_id)
            except NotFound:
                return _page(404, heading="Survey not found", message="it no longer exists")
            held = survey.score
            shown = _shown(runtime.config_now(), survey)
        message = None if held is None else f"You answered {LABELS[held]} before."
        return _page(heading="How was your shift?", survey=shown, message=message,
                     confirm=True, label=LABELS[claim.score], user=claim.user_id)

    @router.post("/survey/{token}", response_class=HTMLResponse, include_in_schema=False)
    def record(token: str) -> HTMLResponse:
        claim = claim_of(token)
        if isinstance(claim, HTMLResponse):
            return claim
        try:
            with transaction(runtime.sessions) as session:
                done = survey_service.answer(
                    session, survey_id=claim.survey_id, user_id=claim.user_id,
                    score=claim.score, surface="link", now=runtime.clock.now())
                shown = _shown(runtime.config_now(), done.survey)
        except NotFound:
            return _page(404, heading="Survey not found", message="it no longer exists")
        except Forbidden as exc:
            return _page(403, heading="Not yours to answer", message=str(exc))
        said = (f"Recorded: {LABELS[claim.score]}." if done.changed
                else f"You had already answered {LABELS[claim.score]}; nothing changed.")
        return _page(heading="Thank you", survey=shown, message=said)

    @router.get("/api/v1/surveys/{survey_id}")
    def get_survey(survey_id: int, caller: Caller = READ) -> dict[str, Any]:
        with runtime.sessions() as session:
            return survey_service.summary(_visible(session, survey_id, caller))

    @router.post("/api/v1/surveys/{survey_id}")
    async def answer(survey_id: int, request: Request, caller: Caller = WRITE) -> dict[str, Any]:
        body = decode_json(await read_capped(request, _BODY_LIMIT))
        score = body.get("score") if isinstance(body, dict) else None
        # Checked before the survey is looked up: a bad score is 400 whoever asks.
        survey_service.check_score(score)
        with transaction(runtime.sessions) as session:
            _visible(session, survey_id, caller)
            done = survey_service.answer(session, survey_id=survey_id, user_id=caller.actor,
                                         score=score, surface=caller.surface,
                                         now=runtime.clock.now())
            return {**survey_service.summary(done.survey), "changed": done.changed}

    return router


def _visible(session: Session, survey_id: int, caller: Caller) -> ShiftSurvey:
    survey = survey_service.get_survey(session, survey_id)
    if survey.user_id != caller.actor and caller.scope != "admin":
        # Someone else's answer is theirs: as if it were not there.
        raise NotFound(f"survey {survey_id} does not exist")
    return survey


def _shown(config: Config, survey: ShiftSurvey) -> dict[str, str]:
    """The shift in the person's own zone (the config checks zone names), named."""
    user = config.users.get(survey.user_id)
    name = (user.timezone if user else None) or config.timezone
    zone = ZoneInfo(name)
    return {"schedule": survey.schedule, "zone": name,
            "shift_start": f"{survey.shift_start.astimezone(zone):%a %d %b %Y %H:%M}",
            "shift_end": f"{survey.shift_end.astimezone(zone):%a %d %b %Y %H:%M}"}
