"""`tocsin demo`: a fresh database filled with a team's history, the seed's incidents last."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.ui.conftest import log_in, set_password
from tests.web.conftest import close_web, make_web
from tocsin.alerts.store import Alert
from tocsin.cli.demo_data import INC_142_ACTIONS, INC_142_WHYS, SEED
from tocsin.cli.main import app
from tocsin.clock import FakeClock
from tocsin.config.loader import load_config
from tocsin.db import make_engine, make_sessionmaker, sqlite_path, transaction
from tocsin.incidents.service import declare
from tocsin.incidents.store import Incident
from tocsin.metrics.store import ShiftSurvey
from tocsin.notify.store import Delivery
from tocsin.postmortems import service as postmortems
from tocsin.postmortems.store import PUBLISHED, ActionItem, Postmortem
from tocsin.statuspage.store import ComponentChange, StatusIncident

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"


def run_demo(db_url: str, *extra: str) -> tuple[int, str]:
    args = ["demo", "--db", db_url, "--config", str(DEMO_CONFIG), "--days", "30", *extra]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout + result.stderr


def test_demo_loads_the_seed_incidents_last_and_every_page_answers(tmp_path, db_url):
    started = time.monotonic()
    code, output = run_demo(db_url)
    print(f"demo --days 30 took {time.monotonic() - started:.1f} s")

    assert code == 0, output
    assert "INC-123 to INC-142" in output
    assert f"tocsin serve --config {DEMO_CONFIG} --db {db_url}" in output
    check_rows(db_url)
    check_follow_ups(db_url)
    check_pages(tmp_path, db_url)


def check_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        seeded = session.scalars(select(Incident).where(Incident.id >= 138)
                                 .order_by(Incident.id)).all()
        assert [(i.key, i.title, i.severity, i.commander, i.users_affected, i.root_cause)
                for i in seeded] == [
            (f"INC-{138 + n}", s.title, s.severity, s.commander, s.users_affected,
             s.root_cause) for n, s in enumerate(SEED)]
        for incident, story in zip(seeded, SEED, strict=True):
            assert incident.resolved_at is not None and incident.mitigated_at is not None
            minutes = (incident.resolved_at - incident.impact_start).total_seconds() / 60
            assert minutes == story.duration_minutes
        assert session.scalar(select(func.count()).select_from(Incident)) == 20
        postmortem = session.scalars(select(Postmortem)
                                     .where(Postmortem.incident_id == 142)).one()
        assert postmortem.status == PUBLISHED
        assert [w["because"] for w in postmortem.whys] == [b for _w, b in INC_142_WHYS]
        items = session.scalars(select(ActionItem).where(ActionItem.incident_id == 142)
                                .order_by(ActionItem.id)).all()
        assert [(a.title, a.owner, a.priority, a.status) for a in items] == [
            (a.title, a.owner, a.priority, a.status) for a in INC_142_ACTIONS]
        alerts = session.scalars(select(Alert)).all()
        assert len(alerts) > 100
        assert all(a.status == "resolved" for a in alerts), "an alert left paging"
        assert any(a.not_actionable for a in alerts)
        assert any(a.acknowledged_at is None and a.resolved_by == "integration:prometheus"
                   for a in alerts), "no transient alert"
        escalated = session.scalar(select(func.count(func.distinct(Delivery.alert_id)))
                                   .where(Delivery.step == 2))
        assert escalated, "no alert escalated past the first step"
        assert session.scalar(select(func.count()).select_from(StatusIncident)) == 20
        assert session.scalar(select(func.count()).select_from(ComponentChange)) > 20
        scores = session.scalars(select(ShiftSurvey.score)
                                 .where(ShiftSurvey.score.is_not(None))).all()
        assert scores and 3.3 <= sum(scores) / len(scores) <= 4.3
    engine.dispose()


def check_follow_ups(db_url: str) -> None:
    """Post-mortem titles without the key, whys without "Why?", surveys' channel as it was."""
    config, _warnings = load_config(DEMO_CONFIG)
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        titles = dict(session.execute(select(Incident.title, Postmortem.title).join(
            Postmortem, Postmortem.incident_id == Incident.id)).all())
        assert titles and all(mine == theirs for theirs, mine in titles.items())
        rows = session.scalars(select(Postmortem)).all()
        whys = [w["why"] for row in rows for w in row.whys if w["why"]]
        assert whys and not [w for w in whys if w.lower().startswith("why")]
        incident = session.get(Incident, 142)
        assert incident is not None
        postmortem = postmortems.find(session, incident)
        assert postmortem is not None
        text = postmortems.export(session, config=config, incident=incident,
                                  postmortem=postmortem)
        channels = set(session.scalars(select(ShiftSurvey.channel)))
    engine.dispose()
    assert text.splitlines()[0] == "# Post-mortem: INC-142 Payment API 500 errors"
    assert "1. Why? API returned 500" in text and "Why? Why" not in text
    # The demo config has no e-mail or Slack provider: no survey was sent through one.
    assert channels == {"demo"}


def check_pages(tmp_path: Path, db_url: str) -> None:
    clock = FakeClock(datetime.now(UTC))
    web = make_web(tmp_path, db_url, clock, DEMO_CONFIG.read_text(encoding="utf-8"))
    try:
        set_password(web, "alice")
        log_in(web.client)
        open_ones = web.client.get("/ui/incidents")
        listing = web.client.get("/ui/incidents?status=all")
        page = web.client.get("/ui/incidents/INC-142")
        status_page = web.client.get("/status/")
        summary = web.client.get("/status/api/v2/summary.json")
    finally:
        close_web(web)

    assert open_ones.status_code == 200
    assert listing.status_code == 200 and "Payment API 500 errors" in listing.text
    assert page.status_code == 200 and "DB connection pool exhausted" in page.text
    assert status_page.status_code == 200 and "Payments" in status_page.text
    assert summary.status_code == 200
    assert summary.json()["status"]["indicator"] == "none"
    assert {c["name"] for c in summary.json()["components"]} >= {"Payments", "Login"}


def test_a_database_with_history_is_refused_and_left_as_it_was(tmp_path, db_url, clock):
    config, _warnings = load_config(DEMO_CONFIG)
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        declare(session, config=config, title="Real outage", severity="SEV2", actor="alice",
                surface="cli", now=clock.now())

    code, said = run_demo(db_url)

    assert code == 1
    assert "already holds alerts or incidents" in said
    # It suggests somewhere new, never the database it just refused.
    path = sqlite_path(db_url)
    if path is not None:
        assert f"give --db sqlite:///{path.removesuffix('.db')}-2.db" in said
    else:
        assert "createdb " in said and f"--db {db_url} " not in f"{said} "
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(Incident.title)).all() == ["Real outage"]
        assert session.scalar(select(func.count()).select_from(Alert)) == 0
    engine.dispose()
