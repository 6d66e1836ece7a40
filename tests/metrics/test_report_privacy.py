"""Who sees what in the report, and stored text printed by `tocsin report`.

Private incidents count in the figures, but the lists name them only to
their members and admins; the CLI shows everything unless `--as` names a
reader. Tokens (tests/web/conftest.py): read is carol, write is bob (made
a member of the private incident below), admin is alice. The fake clock
reads Monday 2026-03-02 03:00 UTC; the rows are from the week before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.web.conftest import ADMIN_TOKEN, READ_TOKEN, WRITE_TOKEN, Web, close_web, make_web
from tocsin.cli.main import app
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.incidents.store import Incident, IncidentMember
from tocsin.postmortems.store import ActionItem, Postmortem

DECLARED = datetime(2026, 2, 25, 10, 0, tzinfo=UTC)
SECRET = "Breach of the vault"
TRICKY = "[/bold] x \x1b]0;pwned\x07 [link=http://127.0.0.1:9/]click[/link]"
OPERATOR = {"LOGNAME": "zoe", "USER": "zoe", "TOCSIN_CONFIG": None,
            "TOCSIN_DATABASE_URL": None, "COLUMNS": "400"}


def _incident(session: Any, title: str, *, private: bool) -> Incident:
    incident = Incident(
        title=title, severity="SEV1", status="investigating", declared_at=DECLARED,
        declared_by="bob", impact_start=DECLARED, services=["payment"], commander="bob",
        users_affected=1200, private=private)
    session.add(incident)
    session.flush()
    if private:
        session.add(IncidentMember(incident_id=incident.id, user_id="bob", added_at=DECLARED,
                                   added_by="bob"))
    # Both post-mortems blame a deployment: the second incident repeats the first.
    session.add(Postmortem(incident_id=incident.id, status="draft", title=title, timeline=[],
                           whys=[], created_at=DECLARED, created_by="bob",
                           updated_at=DECLARED, updated_by="bob",
                           root_cause_category="deployment"))
    session.add(ActionItem(incident_id=incident.id, title=f"fix: {title}", owner="bob",
                           due_date=date(2026, 3, 9), priority="P1", status="planned",
                           created_at=DECLARED, created_by="bob", updated_at=DECLARED))
    return incident


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock)
    with transaction(made.runtime.sessions) as session:
        _incident(session, TRICKY, private=False)
        _incident(session, SECRET, private=True)
    yield made
    close_web(made)


def _report(web: Web, token: str) -> dict[str, Any]:
    response = web.call("GET", "/api/v1/reports/metrics", token)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _listed(found: dict[str, Any]) -> tuple[list[str], list[str]]:
    return ([row["incident"] for row in found["recent_incidents"]],
            [row["incident"] for row in found["action_items"]])


def test_a_private_incident_counts_but_is_listed_only_to_members_and_admins(web: Web):
    outsider, member, admin = (_report(web, token)
                               for token in (READ_TOKEN, WRITE_TOKEN, ADMIN_TOKEN))

    # Both incidents count in every figure, whoever reads.
    for found in (outsider, member, admin):
        assert found["oncall_metrics"]["incidents"] == 2
        assert found["reliability"]["by_severity"] == {"SEV1": 2}
        assert found["reliability"]["action_items"]["total"] == 2
        assert found["reliability"]["recurring_count"] == 1
    # The outsider's lists hold the public incident only: no key, title or item.
    assert _listed(outsider) == (["INC-1"], ["INC-1"])
    assert outsider["reliability"]["recurring_incidents"] == []
    assert SECRET not in json.dumps(outsider)
    # Its commander (a member, with a write token) and an admin see it in full.
    for found in (member, admin):
        assert _listed(found) == (["INC-2", "INC-1"], ["INC-1", "INC-2"])
        assert found["recent_incidents"][0]["title"] == SECRET
        assert found["recent_incidents"][0]["users_affected"] == 1200
        assert found["reliability"]["recurring_incidents"] == ["INC-2"]


def _cli(web: Web, db_url: str, *args: str, window: tuple[str, ...] = (
        "--since", "2026-02-20", "--until", "2026-03-01")) -> Any:
    return CliRunner().invoke(app, ["report", *args, *window, "--config",
                                    str(web.config_path), "--db", db_url], env=OPERATOR)


def test_the_cli_shows_everything_to_the_operator_and_only_what_as_may_see(
        web: Web, db_url: str):
    operator = _cli(web, db_url, "--json")
    carol = _cli(web, db_url, "--json", "--as", "carol")

    assert operator.exit_code == 0 and carol.exit_code == 0, operator.output + carol.output
    assert _listed(json.loads(operator.stdout)) == (["INC-2", "INC-1"], ["INC-1", "INC-2"])
    assert _listed(json.loads(carol.stdout)) == (["INC-1"], ["INC-1"])
    assert SECRET not in carol.stdout


def test_stored_markup_and_control_characters_print_literally(web: Web, db_url: str):
    tables = _cli(web, db_url)

    assert tables.exit_code == 0, tables.output
    # Printed as typed, less the escape and bell: no markup error, no hyperlink, no
    # terminal title change.
    assert "[/bold] x ]0;pwned [link=http://127.0.0.1:9/]click[/link]" in tables.stdout
    assert "fix: [/bold] x ]0;pwned" in tables.stdout
    assert "\x1b" not in tables.stdout and "\x07" not in tables.stdout


def test_the_cli_says_its_window_in_whole_days_and_refuses_impossible_years(
        web: Web, db_url: str):
    tables = _cli(web, db_url)
    default = _cli(web, db_url, window=())
    ancient = _cli(web, db_url, window=("--since", "0001-01-01", "--until", "0001-12-01"))

    assert "Uptime (9 d)" in tables.stdout
    # No --until: up to now, which the heading says.
    assert default.exit_code == 0, default.output
    assert "UTC (now)" in default.stdout and "Uptime (30 d)" in default.stdout
    assert ancient.exit_code == 2
    assert "--since: must be on or after 0002-" in ancient.stderr
    assert "Traceback" not in ancient.output
