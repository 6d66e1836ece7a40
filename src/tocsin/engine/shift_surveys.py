"""The shift survey: one question (1 to 5) to each person whose shift has ended.

Planning, once a minute of engine time, looks at each schedule's final
shifts (recorded ones for the past) and writes one `shift_surveys` row per
person, schedule and shift end, a few minutes ahead of its due time; the
table's unique key makes that safe in every pass, in every worker and after
a restart. A row whose shift has since changed (an override moved its end,
or made it shorter than an hour) is deleted unsent. Sending leases a due row
(survey_store), picks the person's channel (a Slack DM with five buttons
when Slack is configured and they have a Slack contact, else an e-mail with
five signed links), sends with no lock held, then records `sent_at` and the
channel. A crash between the send and the record sends once more when the
lease runs out. A survey no channel can take is marked sent on "none".
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import Clock
from tocsin.config.model import Config, User
from tocsin.db import transaction
from tocsin.links import LinkSigner
from tocsin.logs import event
from tocsin.metrics import survey_rules, survey_store
from tocsin.metrics.store import ShiftSurvey
from tocsin.notify.base import DeliveryOutcome, Notifier
from tocsin.notify.email import EmailNotifier
from tocsin.notify.retry import backoff_seconds
from tocsin.notify.slack import SlackNotifier
from tocsin.notify.surveys import SCORES, SurveyMessage, send_by_email, send_by_slack
from tocsin.oncall.service import final_shifts

log = logging.getLogger(__name__)

PLAN_EVERY = timedelta(minutes=1)
# A survey that no channel took in this long after its shift is given up.
GIVE_UP = timedelta(hours=24)
RETRY_FLOOR_SECONDS = 30
_TICK = timedelta(microseconds=1)


@dataclass
class ShiftSurveys:
    """The engine's survey step: `run_due` once per pass."""

    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    notifiers: Callable[[], dict[str, Notifier]]
    links: LinkSigner
    pool: Executor
    lease: timedelta
    rng: random.Random
    batch: int = 20
    _planned_at: datetime | None = field(default=None, init=False)

    def run_due(self) -> int:
        config = self.config()
        if not config.surveys.enabled:
            return 0
        self.plan(config)
        total = 0
        while sent := self._send_batch(config):
            total += sent
        return total

    def next_due(self, session: Session) -> datetime | None:
        """When the next survey falls due; None while surveys are switched off."""
        if not self.config().surveys.enabled:
            return None
        return survey_store.earliest_due(session)

    def plan(self, config: Config) -> int:
        now = self.clock.now()
        last = self._planned_at
        if last is not None and last <= now < last + PLAN_EVERY:
            return 0
        after = timedelta(minutes=config.surveys.after_shift_minutes)
        low, high = survey_rules.window(now, after)
        queued = 0
        for schedule in config.schedules.values():
            try:
                with transaction(self.sessions) as session:
                    shifts = final_shifts(session, schedule, low, high)
                    for due in survey_rules.surveys_due(shifts, now=now, after=after):
                        survey_id = survey_store.insert_if_absent(
                            session, user_id=due.user, schedule=schedule.name,
                            shift_start=due.shift_start, shift_end=due.shift_end,
                            due_at=due.due_at)
                        if survey_id is not None:
                            queued += 1
                            event(log, "survey.queued", survey_id=survey_id,
                                  schedule=schedule.name, user=due.user)
            except Exception:
                # One schedule the maths cannot expand must not cost the others
                # their surveys; paging does not depend on this step.
                log.exception("survey.plan_failed", extra={"schedule": schedule.name})
        self._planned_at = now
        return queued

    def _send_batch(self, config: Config) -> int:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            claimed = survey_store.claim_due(session, now=now, lease_until=now + self.lease,
                                             limit=self.batch)
        notifiers = self.notifiers()
        futures = [self.pool.submit(self.send, config, notifiers, survey_id)
                   for survey_id in claimed]
        for future in futures:
            future.result()
        return len(claimed)

    def send(self, config: Config, notifiers: dict[str, Notifier], survey_id: int) -> None:
        with self.sessions() as session:
            row = survey_store.get(session, survey_id)
            if row is None or row.sent_at is not None:
                return
            holds = _still_due(session, config, row)
            user = config.users.get(row.user_id)
            message = None if user is None else self._message(config, row, user)
            shift_end = row.shift_end
        if not holds:
            self._drop(survey_id)
            return
        if user is None or message is None:
            why = ("the person is no longer in the config" if user is None
                   else "no Slack or e-mail contact with a provider configured")
            self._finish(survey_id, survey_store.NOT_SENT, why)
            return
        channel, outcome = _deliver(config, notifiers, user, message)
        if outcome.ok:
            self._finish(survey_id, channel, outcome.detail)
        elif outcome.retryable and self.clock.now() < shift_end + GIVE_UP:
            self._retry(survey_id, outcome.detail)
        else:
            self._finish(survey_id, survey_store.NOT_SENT, outcome.detail)

    def _message(self, config: Config, row: ShiftSurvey, user: User) -> SurveyMessage | None:
        channel = _channel_for(config, user)
        if channel is None:
            return None
        zone = ZoneInfo(user.timezone or config.timezone)
        question = (f"Your on-call shift for {row.schedule} has ended "
                    f"({_local(row.shift_start, zone)} to {_local(row.shift_end, zone)}). "
                    "How was it, from 1 (awful) to 5 (great)?")
        links = {score: self.links.survey_url(row.id, user.id, score) for score in SCORES}
        address = user.contacts.get("slack", "") if channel == "slack" else _email_of(user)
        return SurveyMessage(survey_id=row.id, idempotency_key=f"survey-{row.id}",
                             user_id=user.id, user_name=user.display, address=address,
                             question=question, links=links)

    def _finish(self, survey_id: int, channel: str, detail: str) -> None:
        with transaction(self.sessions) as session:
            row = survey_store.get(session, survey_id)
            if row is None:
                return
            row.sent_at = self.clock.now()
            row.channel = channel
        name = "survey.sent" if channel != survey_store.NOT_SENT else "survey.not_sent"
        event(log, name, survey_id=survey_id, channel=channel, detail=detail)

    def _drop(self, survey_id: int) -> None:
        with transaction(self.sessions) as session:
            row = survey_store.get(session, survey_id)
            if row is None or row.sent_at is not None:
                return
            session.delete(row)
        event(log, "survey.dropped", survey_id=survey_id,
              reason="the shift it was planned for has changed")

    def _retry(self, survey_id: int, detail: str) -> None:
        # No attempts column: a jittered wait of a few minutes, until GIVE_UP.
        wait = timedelta(seconds=RETRY_FLOOR_SECONDS + backoff_seconds(3, self.rng))
        with transaction(self.sessions) as session:
            row = survey_store.get(session, survey_id)
            if row is None:
                return
            row.due_at = self.clock.now() + wait
        event(log, "survey.retry", survey_id=survey_id, detail=detail)


def _still_due(session: Session, config: Config, row: ShiftSurvey) -> bool:
    """Whether the person's final shift still ends when the survey was planned for."""
    schedule = config.schedules.get(row.schedule)
    if schedule is None:
        return False
    ending = [shift for shift in final_shifts(session, schedule, row.shift_end - _TICK,
                                              row.shift_end)
              if shift.user == row.user_id and shift.end == row.shift_end]
    return survey_rules.still_due(ending[0] if ending else None, row.shift_end)


def _channel_for(config: Config, user: User) -> str | None:
    """Slack when configured and the person has a Slack contact, else e-mail, else None."""
    providers = config.notifications.real_channels
    if "slack" in providers and user.contacts.get("slack"):
        return "slack"
    if "email" in providers and _email_of(user):
        return "email"
    return None


def _email_of(user: User) -> str:
    return user.contacts.get("email") or user.email or ""


def _deliver(config: Config, notifiers: dict[str, Notifier], user: User,
             message: SurveyMessage) -> tuple[str, DeliveryOutcome]:
    channel = _channel_for(config, user) or survey_store.NOT_SENT
    notifier = notifiers.get(channel)
    try:
        if channel == "slack" and isinstance(notifier, SlackNotifier):
            return channel, send_by_slack(notifier, message)
        if channel == "email" and isinstance(notifier, EmailNotifier):
            return channel, send_by_email(notifier, message)
    except Exception as exc:
        # An adapter bug must cost a retry, not the survey.
        log.exception("survey.adapter_crashed", extra={"survey_id": message.survey_id})
        return channel, DeliveryOutcome(ok=False, retryable=True, detail=type(exc).__name__)
    return channel, DeliveryOutcome(ok=False, detail=f"no provider sends surveys on {channel}")


def _local(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%a %d %b %H:%M} {zone.key}"
