"""Answering the shift survey, from Slack, a signed link or the API.

Only the person the survey was sent to may answer it. The first answer sets
`answered_at`, which stays: it is when the person responded. A later answer
changes the score; every change writes an audit row with the score before
and after, and an answer equal to the score held changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from tocsin.logs import event
from tocsin.metrics import survey_rules, survey_store
from tocsin.metrics.store import ShiftSurvey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    survey: ShiftSurvey
    before: int | None  # the score held before this answer
    changed: bool


def get_survey(session: Session, survey_id: int, *, lock: bool = False) -> ShiftSurvey:
    found = survey_store.get(session, survey_id, lock=lock)
    if found is None:
        raise NotFound(f"survey {survey_id} does not exist")
    return found


def check_score(value: object) -> int:
    """`value` as a score, or a 400 naming `score`."""
    problem = survey_rules.score_problem(value)
    if problem is not None or not isinstance(value, int):
        raise InvalidInput("the score is not valid", [FieldProblem(
            "score", problem or survey_rules.SCORE_HELP)])
    return value


def answer(
    session: Session, *, survey_id: int, user_id: str, score: object, surface: str,
    now: datetime, actor: str | None = None,
) -> Answered:
    """Record `user_id`'s `score` for their survey; `actor` (default: the user) is audited."""
    checked = check_score(score)
    survey = get_survey(session, survey_id, lock=True)
    if survey.user_id != user_id:
        raise Forbidden(f"survey {survey_id} was sent to someone else; "
                        "only they can answer it")
    before = survey.score
    if before == checked:
        return Answered(survey, before, changed=False)
    survey.score = checked
    if survey.answered_at is None:
        survey.answered_at = now
    action = "survey.answered" if before is None else "survey.changed"
    audit.record(session, now=now, actor=actor or user_id, surface=surface, action=action,
                 object_type="shift_survey", object_id=survey.id,
                 before={"score": before}, after={"score": checked})
    event(log, action, survey_id=survey.id, user=user_id, surface=surface)
    return Answered(survey, before, changed=True)


def summary(survey: ShiftSurvey) -> dict[str, object]:
    """The survey as the API shows it."""
    return {
        "id": survey.id, "user": survey.user_id, "schedule": survey.schedule,
        "shift_start": _stamp(survey.shift_start), "shift_end": _stamp(survey.shift_end),
        "sent_at": _stamp(survey.sent_at), "channel": survey.channel, "score": survey.score,
        "answered_at": _stamp(survey.answered_at),
    }


def _stamp(when: datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")
