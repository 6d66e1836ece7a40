"""`tocsin demo`: a fresh database filled with 90 days of a team's history.

Alerts, pages, acknowledgements and escalations, twenty incidents ending
with the seed's INC-138 to INC-142, their status page history,
post-mortems and action items, recorded shifts and survey answers: so a new
user sees every page alive in one command. The same --seed gives the same
story; times are counted back from now.

Like `serve`, and unlike the other verbs, it creates and migrates the
database it is given; it refuses one that already holds alerts or incidents.
"""

from __future__ import annotations

import logging
import random
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import Engine, func, inspect, make_url, select, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.store import Alert
from tocsin.cli import demo_followup
from tocsin.cli.common import DbOption, db_url, engine_for, fail, load
from tocsin.cli.demo_data import (
    ALERT_KINDS,
    EARLIER,
    OUTCOMES,
    SEED,
    AlertKind,
    StoryIncident,
)
from tocsin.cli.demo_story import Worked, local_start, plan
from tocsin.cli.demo_walk import Walk
from tocsin.config.model import Config
from tocsin.db import (
    is_sqlite,
    make_sessionmaker,
    normalise_url,
    sqlite_path,
    transaction,
)
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.migrate import upgrade
from tocsin.oncall.service import on_call

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "examples/demo.yaml"
# The story's last incident is the seed's INC-142: the numbers count up to it.
LAST_NUMBER = 142
ALERTS_PER_DAY = 10 / 3
# The seed's incidents happen in these last days of the history.
SEED_DAYS = 20
NEEDED = {"users": ("alice", "bob", "carol", "dave"), "schedules": ("primary-oncall",),
          "services": ("payment", "api", "dashboard", "email", "login")}


@dataclass(frozen=True)
class Loaded:
    alerts: int
    incidents: list[str]
    postmortems: int
    action_items: int
    shifts: int
    survey_scores: list[int]


def demo(
    db: DbOption = None,
    config: Annotated[str | None, typer.Option(
        "--config", "-c", help=f"Config file the history is made with [{DEFAULT_CONFIG}]")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same story")] = 142,
    days: Annotated[int, typer.Option("--days", min=30, max=365,
                                      help="How far back the history goes")] = 90,
) -> None:
    """Fill a fresh database with a team's history: alerts, incidents, post-mortems."""
    path = config or DEFAULT_CONFIG
    if not Path(path).exists():
        fail(f"no config at {path}; run from the repository's folder or give --config FILE")
    loaded_config = load(path)
    missing = missing_names(loaded_config)
    if missing:
        fail(f"{path} lacks what the demo story uses: {', '.join(missing)}; "
             f"start from {DEFAULT_CONFIG}")
    url = db_url(db)
    engine = _fresh_database(url)
    started = time.monotonic()
    loaded = load_history(make_sessionmaker(engine), config=loaded_config,
                          now=datetime.now(UTC), days=days, seed=seed)
    seconds = time.monotonic() - started
    engine.dispose()
    _print_summary(loaded, seconds=seconds, config_path=path, url=_shown(url))


def missing_names(config: Config) -> list[str]:
    missing = [f"{kind[:-1]} {name}" for kind, names in NEEDED.items() for name in names
               if name not in getattr(config, kind)]
    if not any(i.type == "alertmanager" for i in config.integrations):
        missing.append("an alertmanager integration")
    missing += [f"severity {name}" for name in ("SEV1", "SEV2", "SEV3", "SEV4")
                if config.severity(name) is None]
    if config.incidents.role("Communicator") is None:
        missing.append("incident role Communicator")
    return missing


def _shown(url: str) -> str:
    """The URL to print: a password in it becomes ***."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return url
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)


def _fresh_database(url: str) -> Engine:
    """The database at `url`, created and migrated; exit 1 when it already has history."""
    shown = _shown(url)
    engine = engine_for(url)
    try:
        # Looked at before migrating: a database given by mistake is left as it was.
        found = _has_history(engine)
        if not found:
            upgrade(engine)
    except OperationalError as exc:
        fail(f"cannot open the database at {shown}: {exc.orig}")
    if found:
        engine.dispose()
        fail(f"the database at {shown} already holds alerts or incidents; the demo needs "
             f"a fresh one: {_fresh_hint(url)}")
    return engine


def _fresh_hint(url: str) -> str:
    """A database other than the used one: for SQLite the next free `NAME-2.db` beside it."""
    path = sqlite_path(url)
    if path is not None and is_sqlite(url):
        folder, name = path[:len(path) - len(Path(path).name)], Path(path).name
        stem, suffix = Path(name).stem, Path(name).suffix
        numbered = re.fullmatch(r"(.*)-(\d+)", stem)
        base, number = (numbered[1], int(numbered[2])) if numbered else (stem, 1)
        candidate = path
        while Path(candidate).exists():
            number += 1
            candidate = f"{folder}{base}-{number}{suffix}"
        return f"give --db {url[:len(url) - len(path)]}{candidate}"
    if is_sqlite(url):
        return "give --db sqlite:///./demo.db"
    parsed = make_url(normalise_url(url))
    other = f"{parsed.database or 'tocsin'}_demo"
    new_url = parsed.set(drivername="postgresql", database=other)
    return (f"create an empty database (createdb {other}) and give --db "
            f"{new_url.render_as_string(hide_password=True)}")


def _has_history(engine: Engine) -> bool:
    with engine.connect() as connection:
        present = inspect(connection)
        return any(present.has_table(model.__tablename__)
                   and connection.scalar(select(func.count()).select_from(model))
                   for model in (Alert, Incident))


def load_history(sessions: sessionmaker[Session], *, config: Config, now: datetime,
                 days: int = 90, seed: int = 142) -> Loaded:
    """The whole history in one transaction: a failed load leaves the database empty."""
    rng = random.Random(seed)
    end = now.replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    integration = next(i for i in config.integrations if i.type == "alertmanager")
    with transaction(sessions) as session:
        _number_incidents_from(session, LAST_NUMBER - len(EARLIER) - len(SEED) + 1)
        demo_followup.record_shifts(session, config, now=start)
        walk = Walk(session, config, integration)
        alerts = _plan_alerts(walk, rng, start=start, end=end)
        worked = _plan_incidents(walk, config, rng, end=end, days=days)
        walk.run()
        walk.advance(end)
        postmortems, items = demo_followup.write_postmortems(session, config, worked, end=end)
        shifts = demo_followup.record_shifts(session, config, now=end)
        scores = demo_followup.write_surveys(session, config, rng, end=end)
    keys = sorted((w.key for w in worked if w.key is not None), key=lambda k: int(k[4:]))
    event(log, "demo.loaded", alerts=alerts + len(worked), incidents=len(keys), seed=seed)
    return Loaded(alerts + len(worked), keys, postmortems, items, shifts, scores)


def _number_incidents_from(session: Session, first: int) -> None:
    """Make the next incident number `first`; the table is empty."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('incidents', 'id'), :n)"),
                        {"n": first - 1})
        return
    # AUTOINCREMENT keeps the highest number in sqlite_sequence, a row per table.
    session.execute(text("DELETE FROM sqlite_sequence WHERE name = 'incidents'"))
    session.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES ('incidents', :n)"),
                    {"n": first - 1})


def _plan_alerts(walk: Walk, rng: random.Random, *, start: datetime, end: datetime) -> int:
    """Everyday alerts over the history (the incidents bring their own); how many."""
    count = round((end - start).days * ALERTS_PER_DAY)
    span = (end - start - timedelta(hours=4)).total_seconds()
    outcomes = [name for name, _weight in OUTCOMES]
    weights = [weight for _name, weight in OUTCOMES]
    critical = [k for k in ALERT_KINDS if k.severity == "critical"]
    for _ in range(count):
        at = start + timedelta(hours=1, seconds=rng.randrange(int(span)))
        outcome = rng.choices(outcomes, weights)[0]
        kind = rng.choice(critical if outcome == "escalated" else ALERT_KINDS)
        _plan_alert(walk, rng, kind, outcome, at)
    return count


def _plan_alert(walk: Walk, rng: random.Random, kind: AlertKind, outcome: str,
                at: datetime) -> None:
    box: dict[str, int] = {}

    def fire(now: datetime) -> None:
        box["id"] = walk.fire(kind, now)

    def ack(now: datetime) -> None:
        walk.acknowledge(box["id"], now, surface=rng.choice(("link", "link", "ui", "cli")))

    def source_resolves(now: datetime) -> None:
        walk.source_resolves(box["id"], now)

    def dismiss(now: datetime) -> None:
        walk.dismiss(box["id"], now)

    def after(low: float, high: float, base: datetime = at) -> datetime:
        return base + timedelta(minutes=rng.uniform(low, high))

    walk.at(at, fire)
    if outcome == "transient":
        walk.at(after(1, 4), source_resolves)
        return
    # Past the first step's five minutes, the secondary is paged and picks it up.
    acked = after(0.5, 4) if outcome != "escalated" else after(6, 9)
    walk.at(acked, ack)
    if outcome == "noise":
        walk.at(after(2, 15, acked), dismiss)
    else:
        walk.at(after(8, 90, acked), source_resolves)


def _plan_incidents(walk: Walk, config: Config, rng: random.Random, *, end: datetime,
                    days: int) -> list[Worked]:
    zone = config.schedules["primary-oncall"].timezone
    worked: list[Worked] = []
    stories = [*EARLIER, *SEED]
    for story in stories:
        is_last = story is stories[-1]
        if is_last:
            start = _seed_142_start(config, end)
        else:
            start = local_start(end - timedelta(days=_days_ago(story, days)), zone, rng)
        kind = next(k for k in ALERT_KINDS
                    if k.service == story.service and k.severity == "critical")
        one = Worked(story, start)
        plan(walk, one, kind, seed_timeline=is_last)
        worked.append(one)
    return worked


def _days_ago(story: StoryIncident, days: int) -> float:
    """The seed's incidents keep their days (the last three weeks); the earlier ones
    spread over the rest of the history, in the same order."""
    if story in SEED:
        return story.days_ago
    return SEED_DAYS + (story.days_ago - SEED_DAYS) * (days - SEED_DAYS) / (90 - SEED_DAYS)


def _seed_142_start(config: Config, end: datetime) -> datetime:
    """14:05 in Bangkok, on the latest day of the last five that Alice is primary on call
    (so that, as in the seed, she acknowledges); two days back when she is not."""
    schedule = config.schedules["primary-oncall"]
    zone = schedule.timezone
    candidates = []
    for back in range(1, 6):
        local = (end - timedelta(days=back)).astimezone(ZoneInfo(zone))
        moment = local.replace(hour=14, minute=5, second=0, microsecond=0).astimezone(UTC)
        if moment < end - timedelta(days=1):
            candidates.append(moment)
    for moment in candidates:
        if [s.user for s in on_call(None, schedule, moment)] == ["alice"]:
            return moment
    return candidates[1] if len(candidates) > 1 else candidates[0]


def _print_summary(loaded: Loaded, *, seconds: float, config_path: str, url: str) -> None:
    scores = loaded.survey_scores
    average = sum(scores) / len(scores) if scores else 0.0
    first, last = loaded.incidents[0], loaded.incidents[-1]
    sys.stdout.write(
        f"loaded in {seconds:.1f} s: {loaded.alerts} alerts, {len(loaded.incidents)} "
        f"incidents ({first} to {last}), {loaded.postmortems} post-mortems, "
        f"{loaded.action_items} action items, {loaded.shifts} recorded shift pieces, "
        f"{len(scores)} survey answers (average {average:.1f})\n"
        f"serve it with:\n  tocsin serve --config {config_path} --db {url}\n"
        "then open http://127.0.0.1:8080/ui/ (set a password first: "
        f"tocsin user set-password alice --config {config_path} --db {url})\n")
