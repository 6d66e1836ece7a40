"""The durable engine: apply due timers, send due deliveries, sleep until next.

Everything pending is a row with a due time. The engine wakes at the
earliest due time or when the process writes new work (`wake`), and after
at most `max_wait` seconds to see work written by other processes. Tests
call `run_due` with a fake clock instead of starting the thread.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tocsin import leases
from tocsin.alerts import paging
from tocsin.alerts.batch import write_added_rows
from tocsin.alerts.escalate import apply_timer
from tocsin.alerts.service import paging_fallback
from tocsin.alerts.store import Alert
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine import (
    bundles,
    delivery,
    gap_notices,
    handoffs,
    heartbeats,
    maintenance,
    pagerduty_followups,
    recorder,
    shift_surveys,
)
from tocsin.engine.action_item_reminders import ActionItemNotices
from tocsin.engine.action_item_trackers import TrackerWork
from tocsin.engine.incident_notices import IncidentNotices
from tocsin.engine.incident_slack import IncidentSlackWorker
from tocsin.engine.overdue import Overdue
from tocsin.engine.pacing import Pacing
from tocsin.engine.postmortem_drafts import run_due as draft_postmortems
from tocsin.engine.selfwatch import SelfWatch
from tocsin.engine.status_notices import StatusNotices
from tocsin.engine.storms import StormWatch
from tocsin.escalation import store as timers
from tocsin.incidents import auto as auto_incidents
from tocsin.incidents import notice_store as incident_notice_store
from tocsin.links import LinkSigner
from tocsin.logs import event
from tocsin.notify import store as outbox
from tocsin.notify.base import Notifier
from tocsin.notify.bundles import BundleNotifier
from tocsin.oncall import gap_notice_store, handoff_store
from tocsin.telemetry import ENGINE_FAILURES, ENGINE_LAG

log = logging.getLogger(__name__)

# Timers applied in one transaction: one commit (a WAL flush on PostgreSQL)
# for all of them, while the alert rows they lock wait no longer than a batch.
TIMER_BATCH = 100
# How often every step runs when nothing is due: the steps that plan from the
# config (handoff, gap and survey notices) need a full pass, nothing else does.
FULL_PASS_EVERY = timedelta(minutes=5)


class Engine:
    def __init__(
        self, *, sessions: sessionmaker[Session], config: Callable[[], Config], clock: Clock,
        notifiers: Callable[[], dict[str, Notifier]], links: LinkSigner,
        lease_seconds: float = 120, batch: int = 100, senders: int = 16, max_wait: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._notifiers = notifiers
        self._links = links
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch
        self._max_wait = max_wait
        self._rng = rng or random.Random()
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="tocsin-send")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handoffs = handoffs.Handoffs(
            sessions=sessions, config=config, clock=clock, notifiers=notifiers, pool=self._pool,
            lease=self._lease, rng=self._rng,
        )
        self._gap_notices = gap_notices.GapNotices(
            sessions=sessions, config=config, clock=clock, notifiers=notifiers, pool=self._pool,
            lease=self._lease, rng=self._rng,
        )
        self._incident_notices = IncidentNotices(
            sessions=sessions, config=config, clock=clock, notifiers=notifiers, pool=self._pool,
            lease=self._lease, rng=self._rng,
        )
        self._action_items = ActionItemNotices(
            sessions=sessions, config=config, clock=clock, notifiers=notifiers, pool=self._pool,
            lease=self._lease, rng=self._rng,
        )
        self._trackers = TrackerWork(sessions=sessions, config=config, clock=clock,
                                     rng=self._rng, lease=self._lease)
        self._status_notices = StatusNotices(
            sessions=sessions, config=config, clock=clock, notifiers=notifiers,
            lease=self._lease, rng=self._rng,
        )
        self._recorder = recorder.Recorder(sessions=sessions, config=config, clock=clock)
        self._surveys = shift_surveys.ShiftSurveys(
            sessions=sessions, config=config, clock=clock, notifiers=notifiers, links=links,
            pool=self._pool, lease=self._lease, rng=self._rng,
        )
        self._releases = maintenance.Releases(sessions=sessions, config=config, clock=clock)
        self._heartbeats = heartbeats.Watch(sessions=sessions, config=config, clock=clock,
                                            started=clock.now())
        self._storms = StormWatch(sessions=sessions, config=config, clock=clock)
        self._overdue = Overdue(sessions=sessions, config=config, clock=clock)
        self._pacing = Pacing(sessions=sessions, config=config, clock=clock)
        self._followups = pagerduty_followups.FollowUps(
            sessions=sessions, clock=clock, notifiers=notifiers, pool=self._pool,
            lease=self._lease, rng=self._rng, batch=batch,
        )
        self._incident_slack = IncidentSlackWorker(
            sessions=sessions, config=config, clock=clock, pool=self._pool, lease=self._lease,
            rng=self._rng,
        )
        self._bundles = bundles.Bundles(
            sessions=sessions, config=config, notifiers=notifiers, links=links, clock=clock,
            rng=self._rng, pool=self._pool, lease=self._lease, batch=batch,
        )
        # When the last pass finished without error: /healthz and the
        # outbound heartbeat fail when it is too long ago.
        self.last_loop: datetime | None = None
        self._full_pass_at: datetime | None = None
        # What the last quiet pass read from `next_due`, for the loop's sleep to reuse.
        self._probed: tuple[datetime | None] | None = None
        self.selfwatch = SelfWatch(sessions=sessions, config=config, clock=clock,
                                   lag=self.lag_seconds, last_pass=lambda: self.last_loop)

    def heartbeats_watched_since(self) -> dict[str, datetime]:
        """When this engine began watching each heartbeat: its start-up grace counts from it."""
        return self._heartbeats.watched_since()

    # -- one pass -----------------------------------------------------------

    def run_due(self) -> int:
        """Raise missed heartbeats, release alerts whose maintenance is over,
        count the routes in storm, apply every due timer, then send every due
        delivery (a storm's into bundles) and due bundle; repeat until idle.

        Then record past shifts and plan and send handoff and gap notices, once per pass.

        A pass that finds nothing due (by `next_due`, one read) only records
        shifts; see `_quiet`.
        """
        now = self._clock.now()
        self._probed = None
        if self._quiet(now):
            self._run_recorder()
            self.last_loop = now
            return 0
        self._full_pass_at = now
        total = self._run_heartbeats() + self._run_releases()
        self._run_storms()
        while True:
            done = (self._run_timers() + self._run_pacing() + self._run_deliveries()
                    + self._run_followups() + self._run_incident_declares()
                    + self._run_incident_slack())
            if done == 0:
                # Storm bundles go once the pages due now have been sorted into them.
                done = self._bundles.run_due()
            total += done
            if done == 0:
                self._run_recorder()
                total += (self._run_handoffs() + self._run_gap_notices()
                          + self._run_incident_notices() + self._run_status_notices()
                          + self._run_surveys() + self._run_postmortem_drafts()
                          + self._run_action_items())
                self.last_loop = self._clock.now()
                return total

    def _quiet(self, now: datetime) -> bool:
        """True when no row or deadline is due and a full pass ran within `FULL_PASS_EVERY`.

        An idle pass of every step costs a transaction each; one read of the
        earliest due time answers for all the steps driven by rows and
        deadlines. The steps planned from the config (handoff, gap and survey
        notices) look ahead and run on the next full pass, at most
        `FULL_PASS_EVERY` of engine time later.
        """
        last = self._full_pass_at
        if last is None or not last <= now < last + FULL_PASS_EVERY:
            return False
        try:
            due = self.next_due()
        except Exception:
            # Unsure is not quiet: the full pass finds out what is due.
            log.exception("engine.probe_failed")
            return False
        # Steps that compute their due time answer "now" for work due already: read the
        # clock again, since it has moved on while `next_due` ran.
        quiet = due is None or due > self._clock.now()
        if quiet:
            self._probed = (due,)
        return quiet

    def quiet_until(self) -> datetime | None:
        """Until when a pass would only record shifts: the earlier of the next due work
        and the next full pass. None when a pass has more to do now (no full pass yet)."""
        last = self._full_pass_at
        if last is None:
            return None
        due = self.next_due()
        full = last + FULL_PASS_EVERY
        return full if due is None else min(due, full)

    def _run_recorder(self) -> None:
        try:
            self._recorder.run_due()
        except Exception:
            # Recording can wait a pass (unrecorded time is computed); it
            # must never keep the engine from paging.
            log.exception("engine.recorder_failed")

    def _run_heartbeats(self) -> int:
        try:
            return self._heartbeats.run_due()
        except Exception:
            # The database failed while looking; a miss stays due and the
            # next pass raises it. Timers and deliveries must still run.
            log.exception("engine.heartbeats_failed")
            return 0

    def _run_releases(self) -> int:
        try:
            return self._releases.run_due()
        except Exception:
            # The database failed while looking; the holds stay and the next
            # pass releases them. Timers and deliveries must still run.
            log.exception("engine.releases_failed")
            return 0

    def _run_storms(self) -> None:
        try:
            self._storms.refresh()
        except Exception:
            # The last count stands until the next one works: pages go on, in
            # bundles or on their own as that count said.
            log.exception("engine.storms_failed")

    def _divert(self, claimed: list[int]) -> list[int]:
        try:
            channels = [name for name, notifier in self._notifiers().items()
                        if isinstance(notifier, BundleNotifier)]
            return self._storms.divert(claimed, channels)
        except Exception:
            # Bundling must never hold a page back: on an error they all go one by one.
            log.exception("engine.bundling_failed")
            return claimed

    def _run_pacing(self) -> int:
        """Fail over pages not delivered in time, then release held pages whose window freed."""
        try:
            return self._overdue.run_due() + self._pacing.run_due()
        except Exception:
            # The rows stay as they are for the next pass; pages must still go out.
            log.exception("engine.pacing_failed")
            return 0

    def _pace(self, singles: list[int]) -> list[int]:
        try:
            return self._pacing.hold(singles)
        except Exception:
            # A rate limit must never lose a page: on an error they all go now.
            log.exception("engine.rate_limit_failed")
            return singles

    def _run_followups(self) -> int:
        try:
            return self._followups.run_due()
        except Exception:
            # The rows stay queued for the next pass; pages must still go out.
            log.exception("engine.pagerduty_followups_failed")
            return 0

    def _run_incident_declares(self) -> int:
        try:
            with transaction(self._sessions) as session:
                return auto_incidents.run_due(session, config=self._config(),
                                              now=self._clock.now())
        except Exception:
            # The timers stay due for the next pass; pages must still go out.
            log.exception("engine.incident_declares_failed")
            return 0

    def _run_postmortem_drafts(self) -> int:
        try:
            with transaction(self._sessions) as session:
                return draft_postmortems(session, config=self._config(),
                                         now=self._clock.now())
        except Exception:
            # Drafting can wait a pass; it must never keep the engine from paging.
            log.exception("engine.postmortem_drafts_failed")
            return 0

    def _run_incident_slack(self) -> int:
        try:
            return self._incident_slack.run_due()
        except Exception:
            # Incident channel work stays queued for the next pass; pages must still go out.
            log.exception("engine.incident_slack_failed")
            return 0

    def _run_handoffs(self) -> int:
        try:
            return self._handoffs.run_due()
        except Exception:
            # A notice is a courtesy and its rows stay queued for the next
            # pass; a failure here must never keep the engine from paging.
            log.exception("engine.handoffs_failed")
            return 0

    def _run_incident_notices(self) -> int:
        try:
            return self._incident_notices.run_due()
        except Exception:
            # Stakeholders' e-mails stay queued for the next pass; pages come first.
            log.exception("engine.incident_notices_failed")
            return 0

    def _run_status_notices(self) -> int:
        try:
            return self._status_notices.run_due()
        except Exception:
            # Status page subscribers' notices stay queued for the next pass; pages come first.
            log.exception("engine.status_notices_failed")
            return 0

    def _run_surveys(self) -> int:
        try:
            return self._surveys.run_due()
        except Exception:
            # A survey waits in its row for the next pass; pages come first.
            log.exception("engine.surveys_failed")
            return 0

    def _run_action_items(self) -> int:
        try:
            return self._action_items.run_due() + self._trackers.run_due()
        except Exception:
            # Reminders, digests and tracker pushes stay queued for the next pass.
            log.exception("engine.action_items_failed")
            return 0

    def _run_gap_notices(self) -> int:
        try:
            return self._gap_notices.run_due()
        except Exception:
            # Like handoff notices: a courtesy whose rows wait for the next pass.
            log.exception("engine.gap_notices_failed")
            return 0

    def _run_timers(self) -> int:
        """Apply one batch of due timers in one transaction.

        The batch's alerts are read and locked in one statement and its pages
        inserted together; when a timer fails, the batch is applied again with
        each timer in a savepoint of its own. The pass comes back for the next
        batch after sending the pages due, so the first pages of a mass
        escalation go while the rest are applied.
        """
        now = self._clock.now()
        config = self._config()
        failed: list[int] = []
        # A failure to claim or to commit is the database's: the pass fails
        # and the timers, still pending, are claimed again shortly.
        with transaction(self._sessions) as session:
            due = timers.claim_due(session, now=now, limit=TIMER_BATCH)
            if due:
                failed = self._apply_timers(session, config, due, now)
        for timer_id in failed:
            self._give_up(timer_id, now)
        return len(due)

    def _apply_timers(self, session: Session, config: Config, due: list[timers.Timer],
                      now: datetime) -> list[int]:
        """Apply `due`; the ids of the timers that failed."""
        # Alert rows are locked in id order, as a batch of pages locks them
        # (delivery.Sender.record_all), so two workers never take the same
        # alerts in opposite orders.
        ordered = sorted(due, key=lambda t: (t.alert_id, t.due_at, t.id))
        alerts = delivery.lock_alerts(session, [timer.alert_id for timer in ordered])
        outbox.note_none_waiting(session, alert_ids=list(alerts), now=now)
        try:
            with session.begin_nested(), paging.queued_together(session):
                for timer in ordered:
                    apply_timer(session, config=config, timer=timer, now=now,
                                alert=alerts.get(timer.alert_id))
                # Timeline rows and new timers as one insert each, not one per row.
                with session.no_autoflush:
                    write_added_rows(session)
        except Exception:
            # Rolled back whole; again one by one, so one timer's failure costs
            # nobody else (each failure is logged there).
            event(log, "engine.timer_batch_retried", level=logging.WARNING, timers=len(ordered))
        else:
            return []
        failed: list[int] = []
        for timer in ordered:
            timer_id = timer.id
            try:
                with session.begin_nested():
                    apply_timer(session, config=config, timer=timer, now=now)
            except Exception:
                # A timer that fails must neither hold up every page behind
                # it nor leave its alert silently unpaged.
                log.exception("engine.timer_failed")
                failed.append(timer_id)
        return failed

    def _give_up(self, timer_id: int, now: datetime) -> None:
        ENGINE_FAILURES.inc()
        with transaction(self._sessions) as session:
            timer = session.get(timers.Timer, timer_id)
            if timer is None:
                return
            timer.state = timers.FAILED
            timer.done_at = now
            alert = session.get(Alert, timer.alert_id)
            if alert is not None:
                paging_fallback(session, config=self._config(), alert=alert, now=now,
                                why="the escalation failed with an internal error")
        event(log, "engine.timer_gave_up", level=logging.ERROR, timer_id=timer_id)

    def _run_deliveries(self) -> int:
        now = self._clock.now()
        with transaction(self._sessions) as session:
            claimed = outbox.claim_due(session, now=now, lease_until=now + self._lease,
                                       limit=self._batch)
        if not claimed:
            return 0
        if self._storms.stale(now):
            self._run_storms()
        singles = self._pace(self._divert(claimed))
        sender = delivery.Sender(
            sessions=self._sessions, config=self._config(), notifiers=self._notifiers(),
            links=self._links, clock=self._clock, rng=self._rng,
        )
        # The alerts are read again just before sending: nothing goes after an ack.
        prepared = sender.prepare_all(singles)
        futures = [self._pool.submit(sender.call, ready) for ready in prepared
                   if ready.channel != paging.CONSOLE]
        # A console copy is a line on a stream: written here while the threads
        # send the rest, not handed to a thread of its own.
        done = [sender.call(ready) for ready in prepared if ready.channel == paging.CONSOLE]
        failure: BaseException | None = None
        for future in futures:
            try:
                done.append(future.result())
            except Exception as exc:
                failure = failure or exc  # the others are recorded first, then it is raised
        # One transaction records the batch: statements per page, not per page and row.
        sender.record_all(done)
        if failure is not None:
            raise failure
        return len(claimed)

    # -- when next ----------------------------------------------------------

    def next_due(self) -> datetime | None:
        # The steps whose due time is a row's: read together, in one statement.
        probes = [timers.due_probe(), *outbox.due_probes(), *handoff_store.due_probes(),
                  *gap_notice_store.due_probes(), *incident_notice_store.due_probes(),
                  *self._bundles.due_probes(), *self._followups.due_probes(),
                  *self._pacing.due_probes(), *self._incident_slack.due_probes()]
        with self._sessions() as session:
            times = [leases.earliest(session, probes), self._heartbeats.next_due(session),
                     self._releases.next_due(session), self._overdue.next_due(session),
                     self._status_notices.next_due(session),
                     self._surveys.next_due(session),
                     self._action_items.next_due(session), self._trackers.next_due(session)]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def lag_seconds(self) -> float:
        """How late the oldest due work is; 0 when nothing is overdue."""
        due = self.next_due()
        lag = 0.0 if due is None else max(0.0, (self._clock.now() - due).total_seconds())
        ENGINE_LAG.set(lag)
        return lag

    # -- the thread -----------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="tocsin-engine", daemon=True)
        self._thread.start()
        event(log, "engine.started")

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)
        self.selfwatch.stop()
        event(log, "engine.stopped")

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_due()
                wait = self._seconds_until_next()
            except Exception:
                # The work stays in the database; log it and try again shortly.
                log.exception("engine.pass_failed")
                wait = 1.0
            self.selfwatch.tick()
            self._wake.wait(wait)

    def _seconds_until_next(self) -> float:
        # A quiet pass has just read the earliest due time: one read per idle loop, not two.
        due = self._probed[0] if self._probed is not None else self.next_due()
        if due is None:
            return self._max_wait
        seconds = (due - self._clock.now()).total_seconds()
        return min(max(seconds, 0.0), self._max_wait)
