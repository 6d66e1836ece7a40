"""Send incidents' Slack work (`incident_slack_tasks`): channel, topic, invites, posts.

A task is a row with a due time, written by the incident services in the
same transaction as the change. This worker leases the due ones (a
`lease_until` on a pending row; `FOR UPDATE SKIP LOCKED`), sends with no
lock held, then marks each done, or due again after a backoff, or failed
after `MAX_ATTEMPTS` (logged, with the reason kept on the row). A worker
that dies leaves its lease to run out and another sends again: at least
once, so every kind is written to be harmless twice (a channel is created
only while the incident has none; inviting a member is not an error).

One incident's tasks are sent in order by one thread: the channel is
created before anything is posted into it, and posts arrive in the order
they were written. A task for a channel not made yet waits for it; once
the channel exists the worker sets its topic and invites the incident's
people (queued as tasks of their own, so a failure there is retried alone).
"""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarSelect, or_, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine import incident_slack_jobs as jobs
from tocsin.engine.incident_slack_jobs import Sent
from tocsin.incidents import store
from tocsin.logs import event
from tocsin.notify.base import DeliveryOutcome
from tocsin.notify.retry import backoff_seconds
from tocsin.notify.slack_incidents import IncidentSlack

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# How long a task waits for its incident's channel before it looks again.
WAIT_FOR_CHANNEL = timedelta(seconds=5)
Task = store.SlackTask


class _Wait(Exception):
    """The incident's channel is not made yet: look again shortly."""


@dataclass
class IncidentSlackWorker:
    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    pool: Executor
    lease: timedelta
    rng: random.Random
    slack: Callable[[Config], IncidentSlack | None] = jobs.client_for
    batch: int = 50

    def run_due(self) -> int:
        """Send every due task, one thread per incident; how many were claimed."""
        total = 0
        while True:
            now = self.clock.now()
            with transaction(self.sessions) as session:
                claimed = claim_due(session, now=now, lease_until=now + self.lease,
                                    limit=self.batch)
            if not claimed:
                return total
            config = self.config()
            client = self.slack(config)
            by_incident: dict[int, list[int]] = defaultdict(list)
            for task_id, incident_id in claimed:
                by_incident[incident_id].append(task_id)
            futures = [self.pool.submit(self._send_all, ids, config, client)
                       for ids in by_incident.values()]
            for future in futures:
                future.result()
            total += len(claimed)

    def due_probes(self) -> list[ScalarSelect[Any]]:
        """When a task is next due (see `leases.earliest`)."""
        return due_probes()

    def _send_all(self, task_ids: list[int], config: Config,
                  client: IncidentSlack | None) -> None:
        for task_id in task_ids:
            self.send(task_id, config, client)

    def send(self, task_id: int, config: Config, client: IncidentSlack | None) -> None:
        try:
            job = self._prepare(task_id, config)
        except _Wait:
            self._postpone(task_id)
            return
        if job is None:
            return
        if client is None:
            sent = Sent(DeliveryOutcome(ok=False, detail="no Slack provider is configured "
                                        "(notifications.slack)"))
        else:
            try:
                sent = job.run(client)
            except Exception as exc:
                # An adapter bug costs a retry, never the task.
                log.exception("incident.slack_task_crashed", extra={"task_id": task_id})
                sent = Sent(DeliveryOutcome(ok=False, retryable=True, detail=type(exc).__name__))
        self._record(task_id, sent, config)

    def _prepare(self, task_id: int, config: Config) -> jobs.Job | None:
        with self.sessions() as session:
            task = session.get(Task, task_id)
            incident = session.get(store.Incident, task.incident_id) if task else None
            if task is None or incident is None:
                return None
            if task.kind != store.POST_CHANNEL and _earlier_pending(session, task):
                raise _Wait
            return jobs.job_for(session, config, task.kind, _payload(task), incident,
                                 now=self.clock.now())

    def _postpone(self, task_id: int) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            task = session.get(Task, task_id)
            if task is None:
                return
            task.attempts -= 1  # nothing was sent: the wait is not a failed attempt
            task.due_at = now + WAIT_FOR_CHANNEL
            task.lease_until = None
        event(log, "incident.slack_task_waiting", task_id=task_id)

    def _record(self, task_id: int, sent: Sent, config: Config) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            task = session.get(Task, task_id)
            if task is None:
                return
            task.lease_until = None
            outcome = sent.outcome
            if outcome.ok:
                task.status, task.finished_at, task.error = store.TASK_DONE, now, sent.skip
            elif outcome.retryable and task.attempts < MAX_ATTEMPTS:
                task.due_at = now + timedelta(seconds=backoff_seconds(task.attempts, self.rng))
                task.error = outcome.detail
            else:
                task.status, task.finished_at, task.error = store.TASK_FAILED, now, outcome.detail
            incident = session.get(store.Incident, task.incident_id)
            if incident is not None and outcome.ok:
                jobs.after(session, config, task, incident, sent, now=now)
        _log_result(task, sent)


def claim_due(session: Session, *, now: datetime, lease_until: datetime,
              limit: int) -> list[tuple[int, int]]:
    """Lease up to `limit` due pending tasks: (task id, incident id), oldest first."""
    free = or_(Task.lease_until.is_(None), Task.lease_until <= now)
    query = (select(Task).where(Task.status == store.TASK_PENDING, Task.due_at <= now, free)
             .order_by(Task.due_at, Task.id).limit(limit).with_for_update(skip_locked=True))
    claimed = list(session.scalars(query))
    for task in claimed:
        task.lease_until = lease_until
        task.attempts += 1
    # Sent in the order written (id), whatever their due times.
    return sorted((t.id, t.incident_id) for t in claimed)


def due_probes() -> list[ScalarSelect[Any]]:
    """When the next pending task is due, or a lease on one runs out (`leases.earliest`)."""
    pending = select(Task).where(Task.status == store.TASK_PENDING)
    free = (pending.with_only_columns(Task.due_at).where(Task.lease_until.is_(None))
            .order_by(Task.due_at).limit(1))
    leased = (pending.with_only_columns(Task.lease_until).where(Task.lease_until.is_not(None))
              .order_by(Task.lease_until).limit(1))
    return [free.scalar_subquery(), leased.scalar_subquery()]


def _earlier_pending(session: Session, task: Task) -> bool:
    """Whether the channel is still to be made, or an earlier post to it still to be sent."""
    query = select(Task.id).where(Task.incident_id == task.incident_id, Task.id < task.id,
                                  Task.kind.in_((store.CREATE_CHANNEL, store.POST)),
                                  Task.status == store.TASK_PENDING).limit(1)
    return session.scalars(query).first() is not None


def _payload(task: Task) -> dict[str, Any]:
    try:
        data = json.loads(task.payload or "{}")
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}


def _log_result(task: Task, sent: Sent) -> None:
    if task.status == store.TASK_DONE:
        name, level = "incident.slack_task_done", logging.INFO
    elif task.status == store.TASK_FAILED:
        name, level = "incident.slack_task_failed", logging.ERROR
    else:
        name, level = "incident.slack_task_retrying", logging.WARNING
    event(log, name, level, task_id=task.id, incident=f"INC-{task.incident_id}",
          kind=task.kind, attempt=task.attempts, detail=sent.skip or sent.outcome.detail)
