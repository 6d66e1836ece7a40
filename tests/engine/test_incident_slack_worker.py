"""The Slack worker sends incidents' channel work to the fake Slack: in order, retried, once."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.fake_slack import BOT_USER, FakeSlack
from tocsin import leases
from tocsin.clock import FakeClock
from tocsin.config.loader import load_config
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.engine.incident_slack import MAX_ATTEMPTS, IncidentSlackWorker
from tocsin.incidents import store

CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice, contacts: {slack: U0ALICE}}
  - {id: bob, name: Bob, contacts: {slack: U0BOB}}
  - {id: carol, name: Carol, contacts: {email: carol@example.com}}
notifications:
  slack: {token: xoxb-worker-test-77, api_url: "API_URL"}
"""


@dataclass
class World:
    worker: IncidentSlackWorker
    sessions: sessionmaker[Session]
    slack: FakeSlack
    clock: FakeClock

    def declare(self, *, private: bool = False, commander: str = "bob",
                tasks: tuple[tuple[str, dict[str, object]], ...] = (
                    (store.CREATE_CHANNEL, {}), (store.SET_TOPIC, {"topic": "stale"}),
                    (store.INVITE, {"users": ["bob", "alice"]}))) -> int:
        """An incident with the Slack work the incident services queue on declare."""
        now = self.clock.now()
        with transaction(self.sessions) as session:
            incident = store.Incident(
                title="Payment API returning 500 errors", severity="SEV1",
                status="investigating", commander=commander, target_mttr_minutes=30,
                declared_at=now, declared_by="alice", impact_start=now, private=private)
            session.add(incident)
            session.flush()
            for kind, payload in tasks:
                self.queue(session, incident.id, kind, payload)
            return incident.id

    def queue(self, session: Session, incident_id: int, kind: str,
              payload: dict[str, object], due: datetime | None = None) -> None:
        now = self.clock.now()
        session.add(store.SlackTask(incident_id=incident_id, kind=kind,
                                    payload=json.dumps(payload), status=store.TASK_PENDING,
                                    attempts=0, due_at=due or now, created_at=now))

    def add(self, incident_id: int, kind: str, payload: dict[str, object]) -> None:
        with transaction(self.sessions) as session:
            self.queue(session, incident_id, kind, payload)

    def tasks(self, incident_id: int) -> list[store.SlackTask]:
        with self.sessions() as session:
            return list(session.scalars(select(store.SlackTask).where(
                store.SlackTask.incident_id == incident_id).order_by(store.SlackTask.id)))

    def incident(self, incident_id: int) -> store.Incident:
        with self.sessions() as session:
            found = session.get(store.Incident, incident_id)
            assert found is not None
            return found

    def channel(self, incident_id: int):
        channel_id = self.incident(incident_id).slack_channel_id
        assert channel_id is not None
        return self.slack.channels[channel_id]

    def texts(self, incident_id: int) -> list[str]:
        return [m["text"] for m in self.channel(incident_id).history]


@pytest.fixture
def world(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[World]:
    with FakeSlack() as slack, ThreadPoolExecutor(4) as pool:
        path = tmp_path / "tocsin.yaml"
        path.write_text(CONFIG.replace("API_URL", slack.base_url), encoding="utf-8")
        config, _ = load_config(str(path))
        engine = make_engine(db_url)
        sessions = make_sessionmaker(engine)
        worker = IncidentSlackWorker(sessions=sessions, config=lambda: config, clock=clock,
                                     pool=pool, lease=timedelta(minutes=2),
                                     rng=random.Random(7))
        yield World(worker, sessions, slack, clock)
        engine.dispose()


def test_declare_opens_a_channel_with_topic_and_people(world: World):
    incident_id = world.declare()

    world.worker.run_due()

    incident = world.incident(incident_id)
    channel = world.channel(incident_id)
    assert (incident.slack_channel_name, channel.name) == ("inc-2026-0001", "inc-2026-0001")
    assert channel.topic == ("SEV1 | Investigating | Commander: Bob | "
                             f"INC-{incident_id} Payment API returning 500 errors")
    assert channel.members == [BOT_USER, "U0BOB", "U0ALICE"]  # commander, declarer
    assert not channel.is_private
    assert {t.status for t in world.tasks(incident_id)} == {store.TASK_DONE}
    with world.sessions() as session:
        rows = session.scalars(select(store.TimelineRow).where(
            store.TimelineRow.incident_id == incident_id)).all()
    assert [(r.kind, r.text, r.actor) for r in rows] == [
        ("slack_channel", "Slack channel #inc-2026-0001 created", "tocsin")]


def test_a_private_incident_gets_a_private_channel(world: World):
    incident_id = world.declare(private=True)

    world.worker.run_due()

    assert world.channel(incident_id).is_private


def test_a_taken_name_gets_a_suffix_and_the_incident_keeps_the_real_name(world: World):
    world.slack.add_channel("inc-2026-0001")
    incident_id = world.declare()

    world.worker.run_due()

    assert world.incident(incident_id).slack_channel_name == "inc-2026-0001-2"


def test_posts_wait_for_the_channel_and_keep_their_order(world: World):
    world.slack.server_error_next(503)  # the first create fails
    incident_id = world.declare(tasks=(
        (store.CREATE_CHANNEL, {}), (store.POST, {"text": "first"}),
        (store.POST, {"text": "second"})))

    world.worker.run_due()
    assert world.incident(incident_id).slack_channel_id is None
    assert [t.attempts for t in world.tasks(incident_id)] == [1, 0, 0]

    world.clock.advance(minutes=1)
    world.worker.run_due()

    assert world.texts(incident_id) == ["first", "second"]


def test_a_failure_is_retried_with_backoff_until_slack_answers(world: World):
    incident_id = world.declare()
    world.worker.run_due()
    world.add(incident_id, store.POST, {"text": "Update: rolled back"})
    world.slack.rate_limit_next(30)

    world.worker.run_due()
    post = world.tasks(incident_id)[-1]
    assert (post.status, post.attempts) == (store.TASK_PENDING, 1)
    assert post.due_at > world.clock.now()
    assert "HTTP 429: ratelimited" in (post.error or "")

    world.clock.advance(seconds=11)
    world.worker.run_due()

    assert world.tasks(incident_id)[-1].status == store.TASK_DONE
    assert world.texts(incident_id) == ["Update: rolled back"]


def test_a_task_failing_every_time_is_marked_failed_and_logged(
        world: World, caplog: pytest.LogCaptureFixture):
    incident_id = world.declare()
    world.slack.server_error_next(503, count=MAX_ATTEMPTS)

    for _ in range(MAX_ATTEMPTS):
        world.worker.run_due()
        world.clock.advance(minutes=16)  # past the longest backoff

    task = world.tasks(incident_id)[0]
    assert (task.status, task.attempts) == (store.TASK_FAILED, MAX_ATTEMPTS)
    assert task.error == "Slack answered HTTP 503: no Slack error code"
    assert any(r.message == "incident.slack_task_failed" and r.levelno == logging.ERROR
               for r in caplog.records)


def test_a_refused_token_fails_at_once_and_so_does_work_for_the_missing_channel(world: World):
    world.slack.fail_next("invalid_auth")
    incident_id = world.declare(tasks=((store.CREATE_CHANNEL, {}),
                                       (store.POST, {"text": "hello"})))

    world.worker.run_due()

    assert [(t.status, t.error) for t in world.tasks(incident_id)] == [
        (store.TASK_FAILED, "Slack answered HTTP 200: invalid_auth"),
        (store.TASK_FAILED, "the incident has no Slack channel (its creation failed)")]


def test_a_leased_task_is_left_to_its_worker_until_the_lease_runs_out(world: World):
    incident_id = world.declare(tasks=((store.CREATE_CHANNEL, {}),))
    with transaction(world.sessions) as session:
        task = session.scalars(select(store.SlackTask)).one()
        task.lease_until = world.clock.now() + timedelta(minutes=2)
        task.attempts = 1

    assert world.worker.run_due() == 0
    with world.sessions() as session:
        due = leases.earliest(session, world.worker.due_probes())
        assert due == world.clock.now() + timedelta(minutes=2)

    world.clock.advance(minutes=2)
    world.worker.run_due()

    assert world.incident(incident_id).slack_channel_id is not None
    assert len(world.slack.calls_to("conversations.create")) == 1


def test_creating_twice_makes_one_channel(world: World):
    incident_id = world.declare()
    world.worker.run_due()
    world.add(incident_id, store.CREATE_CHANNEL, {})

    world.worker.run_due()

    assert len(world.slack.calls_to("conversations.create")) == 1
    assert world.tasks(incident_id)[-1].error is not None  # says why nothing was sent


def test_invites_map_users_to_slack_and_name_who_has_no_slack(world: World):
    incident_id = world.declare()
    world.worker.run_due()
    world.add(incident_id, store.INVITE, {"users": ["carol", "alice", "bob"]})

    world.worker.run_due()

    task = world.tasks(incident_id)[-1]
    assert task.status == store.TASK_DONE
    assert task.error == "not invited: carol (no contacts.slack)"
    assert world.channel(incident_id).members == [BOT_USER, "U0BOB", "U0ALICE"]


def test_stakeholder_channel_posts_join_the_channel_when_not_in_it(world: World):
    incident_id = world.declare()
    world.worker.run_due()
    stakeholders = world.slack.add_channel("exec-updates")
    world.slack.fail_next("not_in_channel")
    world.add(incident_id, store.POST_CHANNEL, {"channel": stakeholders.id,
                                                "text": "INC-1 update: degraded"})

    world.worker.run_due()

    assert [m["text"] for m in stakeholders.history] == ["INC-1 update: degraded"]
    assert world.slack.calls_to("conversations.join")[0].params["channel"] == stakeholders.id


def test_markup_in_titles_and_posts_is_shown_never_acted_on(world: World):
    incident_id = world.declare()
    with transaction(world.sessions) as session:
        found = session.get(store.Incident, incident_id)
        assert found is not None
        found.title = "<!channel> <@U0CFO> <https://evil.example|click> & co"
    stakeholders = world.slack.add_channel("exec-updates")
    world.add(incident_id, store.POST, {"text": "INC-1 update: <!here> R&D"})
    world.add(incident_id, store.POST_CHANNEL, {"channel": stakeholders.id,
                                                "text": "INC-1 declared: <!channel>"})

    world.worker.run_due()

    assert world.channel(incident_id).topic.endswith(
        "&lt;!channel&gt; &lt;@U0CFO&gt; &lt;https://evil.example|click&gt; &amp; co")
    assert world.texts(incident_id) == ["INC-1 update: &lt;!here&gt; R&amp;D"]
    assert [m["text"] for m in stakeholders.history] == ["INC-1 declared: &lt;!channel&gt;"]


def test_an_overdue_update_reminds_the_commander_in_the_channel_and_by_dm(world: World):
    incident_id = world.declare()
    world.worker.run_due()
    with transaction(world.sessions) as session:
        world.queue(session, incident_id, store.REMIND_UPDATE, {},
                    due=world.clock.now() + timedelta(minutes=30))
    world.clock.advance(minutes=30)

    world.worker.run_due()

    expected = ("<@U0BOB>: no update on INC-1 for 30 minutes. Post one with `/incident update "
                "TEXT`; it goes to this channel and the stakeholders.")
    assert world.texts(incident_id) == [expected]
    channel = world.incident(incident_id).slack_channel_id
    assert [p[2]["text"] for p in world.slack.posts if p[0] == "D0BOB"] == [
        f"No update on INC-1 (<#{channel}>) for 30 minutes: post one there with "
        "`/incident update TEXT`."]
    following = world.tasks(incident_id)[-1]
    assert (following.kind, following.status) == (store.REMIND_UPDATE, store.TASK_PENDING)
    assert following.due_at == world.clock.now() + timedelta(minutes=30)


def test_no_reminder_goes_out_while_the_incident_has_no_commander(
    world: World, caplog: pytest.LogCaptureFixture,
):
    incident_id = world.declare()
    world.worker.run_due()
    with transaction(world.sessions) as session:
        world.queue(session, incident_id, store.REMIND_UPDATE, {},
                    due=world.clock.now() + timedelta(minutes=30))
        incident = session.get(store.Incident, incident_id)
        assert incident is not None
        incident.commander = None  # declared by a route: nobody assigned yet
    world.clock.advance(minutes=30)

    with caplog.at_level("INFO", logger="tocsin.engine.incident_slack_jobs"):
        world.worker.run_due()

    assert world.texts(incident_id) == []
    assert not [p for p in world.slack.posts if p[0].startswith("D")]
    assert world.tasks(incident_id)[-1].status == store.TASK_DONE
    assert any("incident.reminder_unsent" in r.getMessage() for r in caplog.records)


def test_no_reminder_after_a_recent_update(world: World):
    incident_id = world.declare()
    world.worker.run_due()
    with transaction(world.sessions) as session:
        world.queue(session, incident_id, store.REMIND_UPDATE, {},
                    due=world.clock.now() + timedelta(minutes=30))
        incident = session.get(store.Incident, incident_id)
        assert incident is not None
        incident.last_update_at = world.clock.now() + timedelta(minutes=20)
    world.clock.advance(minutes=30)

    world.worker.run_due()

    assert world.texts(incident_id) == []
    assert world.tasks(incident_id)[-1].status == store.TASK_DONE
