"""The demo's follow-up rows: post-mortems, action items, recorded shifts, survey answers.

Post-mortems, action items and surveys are written straight through their
tables (the services for them live beside this work and are not used
here); each row holds what its own service would have stored by then.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.cli.demo_data import (
    INC_142_ACTIONS,
    INC_142_IMPACT,
    INC_142_TIMELINE,
    INC_142_WHYS,
    SURVEY_SCORES,
    SeedAction,
)
from tocsin.cli.demo_story import Worked
from tocsin.config.model import Config
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.metrics.store import ShiftSurvey
from tocsin.oncall import history
from tocsin.oncall.history_store import RecordedShift
from tocsin.postmortems.store import (
    DONE,
    DRAFT,
    IN_PROGRESS,
    IN_REVIEW,
    PLANNED,
    PUBLISHED,
    ActionItem,
    Postmortem,
)

log = logging.getLogger(__name__)

# Earlier post-mortems, oldest first, take these states in turn; INC-142's is published.
EARLIER_STATES = (PUBLISHED, PUBLISHED, IN_REVIEW, PUBLISHED, DRAFT, IN_REVIEW, DRAFT)
DUE_DAYS = 5
# The `channel` of the demo's survey rows: the demo config has no provider, so no survey was
# sent by e-mail or Slack; these answers were written by `tocsin demo`.
DEMO_CHANNEL = "demo"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_postmortems(session: Session, config: Config, worked: list[Worked], *,
                      end: datetime) -> tuple[int, int]:
    """A post-mortem for each SEV1 and SEV2 incident, action items for the reviewed ones;
    how many of each."""
    needing = [w for w in worked if w.story.severity in ("SEV1", "SEV2")]
    postmortems = items = 0
    for index, one in enumerate(needing):
        seed = one is worked[-1]
        state = PUBLISHED if seed else EARLIER_STATES[index % len(EARLIER_STATES)]
        incident = session.get(Incident, int((one.key or "").removeprefix("INC-")))
        assert incident is not None and incident.resolved_at is not None
        row = _postmortem(config, one, incident, state=state, end=end, seed=seed)
        session.add(row)
        session.flush()
        event(log, "demo.postmortem_written", postmortem_id=row.id, incident=incident.key,
              status=state)
        postmortems += 1
        actions = INC_142_ACTIONS if seed else _earlier_actions(one, state)
        for action in actions:
            session.add(_action(row, incident, action, end=end))
            items += 1
    return postmortems, items


def _postmortem(config: Config, one: Worked, incident: Incident, *, state: str,
                end: datetime, seed: bool) -> Postmortem:
    story = one.story
    resolved = incident.resolved_at
    assert resolved is not None
    created = min(resolved + timedelta(hours=2), end)
    reviewed = min(resolved + timedelta(hours=20), end) if state != DRAFT else None
    published = min(resolved + timedelta(days=1), end) if state == PUBLISHED else None
    drafted = state == DRAFT
    whys = ([{"why": w, "because": b} for w, b in INC_142_WHYS] if seed
            else [{"why": "", "because": ""}] * 5 if drafted
            else [{"why": story.title, "because": story.root_cause}])
    return Postmortem(
        incident_id=incident.id, status=state, title=story.title,
        summary=INC_142_IMPACT.summary if seed else _summary(one),
        users_affected=story.users_affected,
        estimated_cost=INC_142_IMPACT.estimated_cost if seed else None,
        support_tickets=INC_142_IMPACT.support_tickets if seed else None,
        timeline=_timeline(config, one, seed=seed), root_cause=story.root_cause,
        root_cause_category=None if drafted else story.category, whys=whys,
        contributing_factors="" if drafted else "No alert fired before customers noticed.",
        went_well="" if drafted else "The on-call acknowledged within minutes.",
        went_badly="" if drafted else "The status page went out after the first tickets.",
        lessons="" if drafted else "Watch the saturation of shared resources, not only errors.",
        due_at=resolved + timedelta(days=DUE_DAYS), created_at=created,
        created_by=story.commander, updated_at=published or reviewed or created,
        updated_by=story.commander, review_requested_at=reviewed, published_at=published,
        published_by=story.commander if published else None,
    )


def _summary(one: Worked) -> str:
    story = one.story
    return (f"{story.title}: {story.users_affected:,} users affected for "
            f"{story.duration_minutes} minutes. Cause: {story.root_cause}.")


def _timeline(config: Config, one: Worked, *, seed: bool) -> list[dict[str, Any]]:
    """The moments the post-mortem lists; INC-142's in the seed's words."""
    if seed:
        acker = config.users.get(one.acked_by or "")
        name = acker.display if acker is not None else "the on-call"
        return [{"at": _iso(one.start + timedelta(minutes=minute)),
                 "text": text.replace("Alice", name) if minute == 2 else text,
                 "entry_id": None} for minute, text in INC_142_TIMELINE]
    words = {"declare": "Incident declared", "identified": "Cause identified",
             "mitigated": "Impact mitigated", "resolved": "Resolved"}
    return [{"at": _iso(one.moments[name]), "text": text, "entry_id": None}
            for name, text in words.items()]


def _earlier_actions(one: Worked, state: str) -> tuple[SeedAction, ...]:
    if state == DRAFT:
        return ()
    status = DONE if state == PUBLISHED else IN_PROGRESS
    return (
        SeedAction(f"Alert on the early signs of: {one.story.root_cause.lower()}",
                   one.story.commander, 7, "P1", status),
        SeedAction(f"Runbook entry for {one.story.service} on-call", "bob"
                   if one.story.commander != "bob" else "carol", 14, "P2",
                   DONE if status == DONE else PLANNED),
    )


def _action(row: Postmortem, incident: Incident, action: SeedAction, *,
            end: datetime) -> ActionItem:
    made = row.created_at
    due = incident.declared_at + timedelta(days=action.due_days)
    completed = min(made + timedelta(days=action.due_days * 0.6), end) \
        if action.status == DONE else None
    return ActionItem(
        incident_id=incident.id, postmortem_id=row.id, title=action.title, owner=action.owner,
        due_date=due.date(), priority=action.priority, status=action.status, created_at=made,
        created_by=row.created_by, updated_at=completed or made, completed_at=completed)


def record_shifts(session: Session, config: Config, *, now: datetime) -> int:
    """Record every schedule up to `now`, as the engine's recorder does each minute."""
    return sum(history.record_with_anchors(session, schedule=schedule, now=now)
               for schedule in config.schedules.values())


def write_surveys(session: Session, config: Config, rng: random.Random, *,
                  end: datetime) -> list[int]:
    """One survey per finished recorded shift, most answered; the scores given."""
    if not config.surveys.enabled:
        return []
    ends: dict[tuple[str, str, datetime], datetime] = {}
    for piece in session.scalars(select(RecordedShift).order_by(RecordedShift.id)):
        shift = (piece.schedule, piece.user_id, piece.shift_start)
        ends[shift] = max(ends.get(shift, piece.end_at), piece.end_at)
    scores = list(SURVEY_SCORES)
    rng.shuffle(scores)
    given: list[int] = []
    after = timedelta(minutes=config.surveys.after_shift_minutes)
    # In the order the shifts ended, so any few weeks average about what the list does.
    for (schedule, user, start), shift_end in sorted(ends.items(), key=lambda i: (i[1], i[0])):
        if shift_end >= end:
            continue  # still running
        due = shift_end + after
        answered = due + timedelta(minutes=rng.randrange(5, 600))
        # One in ten people never answer; an answer is not in before it is given.
        score: int | None = scores[len(given) % len(scores)]
        if rng.random() < 0.1 or answered > end:
            score = None
        session.add(ShiftSurvey(
            user_id=user, schedule=schedule, shift_start=start, shift_end=shift_end,
            due_at=due, sent_at=due, channel=DEMO_CHANNEL, score=score,
            answered_at=answered if score is not None else None))
        if score is not None:
            given.append(score)
    return given
