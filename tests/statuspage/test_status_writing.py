"""Public updates written from the incident's page and from its Slack channel.

The Communicator writes on purpose: the first update makes the incident's
public face, later ones update it, each lands on the incident's timeline
too, and nothing else of the incident (notes, its internal title) reaches
/status/api/v2. The UI runs through the real app with a logged-in browser
session; Slack commands are signed with slack_sdk's own SignatureVerifier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from tests.support.fake_slack import FakeSlack
from tests.ui.conftest import log_in, set_password
from tests.ui.incidenting import INCIDENTS_CONFIG, act, audit_of, declare, field_error
from tests.web.conftest import Web, close_web, make_web
from tests.web.slack_app import CONFIG as SLACK_CONFIG
from tests.web.slack_app import SlackWeb, make_slack_web
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.incidents import commands, service
from tocsin.statuspage.store import StatusIncident

COMPONENTS = """
components:
  - {name: API, service: payment}
  - {name: Search, service: search}
  - {name: Ledger, public: false, service: payment}
"""
PUBLIC_JSON = ("summary.json", "status.json", "components.json", "incidents.json",
               "incidents/unresolved.json")
SECRET_NOTE = "rolled back db-7 with the root password"


@pytest.fixture
def ui(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    web = make_web(tmp_path, db_url, clock, INCIDENTS_CONFIG + COMPONENTS)
    set_password(web, "alice")
    log_in(web.client, "alice")
    yield web
    close_web(web)


def public(web: Web, path: str) -> dict[str, Any]:
    web.clock.advance(seconds=1)  # the page's answers are kept for the current second
    response = web.client.get(f"/status/api/v2/{path}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def everything_public(web: Web) -> str:
    return " ".join(json.dumps(public(web, path)) for path in PUBLIC_JSON)


def status_of(web: Web, component: str) -> str:
    listed = public(web, "components.json")["components"]
    return next(str(c["status"]) for c in listed if c["name"] == component)


def test_the_incident_page_makes_the_public_face_then_updates_it(ui: Web) -> None:
    key = declare(ui, "Checkout failing", "SEV2", ("payment",))
    page = ui.client.get(f"/ui/incidents/{key}").text
    assert "Nothing of this incident is public yet" in page
    assert 'name="name" value="Checkout failing"' in page
    assert act(ui, key, "note", text=SECRET_NOTE)[0] == 200

    status, page = act(ui, key, "statuspage", name="Card payments failing", impact="major",
                       status="investigating", body="We are looking into failed payments.",
                       **{"component:API": "partial_outage", "component:Search": ""})
    assert status == 200
    assert "Public update posted to the status page." in page
    assert "Card payments failing</a>" in page and "now investigating" in page
    summary = public(ui, "summary.json")
    assert [(i["name"], i["impact"], i["status"]) for i in summary["incidents"]] == [
        ("Card payments failing", "major", "investigating")]
    assert summary["incidents"][0]["incident_updates"][0]["body"] == (
        "We are looking into failed payments.")
    assert status_of(ui, "API") == "partial_outage"
    assert status_of(ui, "Search") == "operational"

    ui.clock.advance(minutes=20)
    status, page = act(ui, key, "statuspage", status="resolved", body="Payments work again.")
    assert status == 200
    assert status_of(ui, "API") == "operational"  # the resolve returns what it set
    assert public(ui, "incidents/unresolved.json")["incidents"] == []
    with ui.runtime.sessions() as session:
        texts = [e.text for e in service.timeline(session, key)]
    assert "Status page update (investigating): We are looking into failed payments." in texts
    assert "Status page update (resolved): Payments work again." in texts
    shown = everything_public(ui)
    assert SECRET_NOTE not in shown and "Checkout failing" not in shown
    assert "Ledger" not in shown and key not in shown
    with ui.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "status_incident").order_by(AuditEntry.id))
        assert [(r.action, r.actor, r.surface) for r in rows] == [
            ("status_incident.create", "alice", "ui"), ("status_incident.update", "alice", "ui")]
    assert ("incident.note", "alice", "ui") in audit_of(ui, key)


def test_a_refused_public_update_names_each_field_and_publishes_nothing(ui: Web) -> None:
    key = declare(ui, "Checkout failing", "SEV2", ("payment",))

    status, page = act(ui, key, "statuspage", name="Card payments failing", impact="huge",
                       status="investigating", body="Looking.",
                       **{"component:API": "on_fire"})
    assert status == 400
    assert field_error(page, "statuspage-impact").startswith("must be one of none, minor")
    assert "must be one of operational" in field_error(page, "statuspage-components")
    assert 'value="Card payments failing"' in page  # what was typed stays
    status, page = act(ui, key, "statuspage", name="x", impact="major", status="monitoring",
                       body="Looking.", **{"component:<b>Nope</b>": "major_outage"})
    assert status == 400 and "<b>Nope</b>" not in page  # the typed name is escaped
    assert field_error(page, "statuspage-components") == (
        "is not a component; use one of: API, Search, Ledger")
    status, page = act(ui, key, "statuspage", name="Card payments failing", impact="major",
                       status="investigating", body="  ")
    assert status == 400
    assert field_error(page, "statuspage-body") == "is empty; write some text"
    assert public(ui, "incidents.json")["incidents"] == []
    with ui.runtime.sessions() as session:
        assert session.scalars(select(StatusIncident)).first() is None


# -- Slack -------------------------------------------------------------------------------

ALICE = "U0ALICE"


@pytest.fixture
def sw(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[SlackWeb]:
    config = SLACK_CONFIG.replace("  - {name: payment, escalation_policy: critical}\n",
                                  "  - {name: payment, escalation_policy: critical}\n"
                                  "  - {name: search}\n") + COMPONENTS
    with FakeSlack(clock) as slack, FakeSlack() as trap:
        web = make_slack_web(tmp_path, db_url, clock, slack, config)
        try:
            yield SlackWeb(web, slack, trap)
        finally:
            close_web(web)


def slash(sw: SlackWeb, text: str, *, channel: str = "C0OPS") -> dict[str, Any]:
    body = urlencode({
        "token": "deprecated", "team_id": "T0TOCSIN", "channel_id": channel, "user_id": ALICE,
        "command": "/incident", "text": text, "api_app_id": "A0TOCSIN",
        "trigger_id": "1.2.3", "response_url": sw.trap.base_url + "commands"}).encode()
    response = sw.post("/slack/commands", body)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def test_slack_statuspage_posts_for_the_channels_incident(sw: SlackWeb) -> None:
    web = sw.web
    assert slash(sw, 'create "Payment API returning 500 errors" sev2 service:payment')[
        "response_type"] == "in_channel"
    web.runtime.engine.run_due()
    with web.runtime.sessions() as session:
        room = service.get(session, "INC-1", admin=True).slack_channel_id
    assert room is not None
    slash(sw, f"note {SECRET_NOTE}", channel=room)

    reply = slash(sw, "statuspage investigating Some card payments fail; we are on it.",
                  channel=room)
    assert reply == {"response_type": "in_channel", "text": (
        "<@U0ALICE> posted to the status page for INC-1 (its public page is new): "
        "*investigating*: Some card payments fail; we are on it.")}
    summary = public(web, "summary.json")
    assert [(i["name"], i["impact"]) for i in summary["incidents"]] == [
        ("Payment API returning 500 errors", "major")]  # the second severity: major
    assert status_of(web, "API") == "partial_outage"  # payment's public component
    assert status_of(web, "Search") == "operational"

    web.clock.advance(minutes=15)
    reply = slash(sw, "statuspage resolved Payments work again.", channel=room)
    assert "(its public page is new)" not in reply["text"]
    assert status_of(web, "API") == "operational"
    incidents = public(web, "incidents.json")["incidents"]
    assert len(incidents) == 1 and incidents[0]["status"] == "resolved"
    assert [u["body"] for u in incidents[0]["incident_updates"]] == [
        "Payments work again.", "Some card payments fail; we are on it."]
    shown = everything_public(web)
    assert SECRET_NOTE not in shown and "Ledger" not in shown
    with web.runtime.sessions() as session:
        texts = [e.text for e in service.timeline(session, "INC-1")
                 if e.text.startswith("Status page update")]
    assert texts == ["Status page update (investigating): Some card payments fail; we are on it.",
                     "Status page update (resolved): Payments work again."]


def test_slack_statuspage_refuses_a_bad_status_or_a_missing_text(sw: SlackWeb) -> None:
    reply = slash(sw, "statuspage fixed all good")
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Choose a public status: investigating, identified")
    assert slash(sw, "statuspage INC-1 monitoring")["text"].startswith(
        "Say what customers should read")
    assert slash(sw, "statuspage monitoring We are watching.")["text"].startswith(
        "This channel is not an incident's.")
    assert public(sw.web, "incidents.json")["incidents"] == []


def test_the_parser_reads_statuspage_with_the_incident_before_or_after_the_verb() -> None:
    severities = ("SEV1",)
    assert commands.parse_incident("statuspage INC-7 Monitoring A fix is out", severities=(
        severities)) == commands.StatusPage("INC-7", "monitoring", "A fix is out")
    assert commands.parse_incident("inc7 status-page postmortem <https://x.test|Read it>",
                                   severities=severities) == commands.StatusPage(
        "INC-7", "postmortem", "Read it (https://x.test)")


def test_a_public_update_from_the_incident_page_shows_at_once_despite_the_cache(
    ui: Web
) -> None:
    key = declare(ui, "Checkout failing", "SEV2", ("payment",))
    before = ui.client.get("/status/api/v2/summary.json").json()
    assert before["incidents"] == []
    assert "Card payments failing" not in ui.client.get("/status/").text

    status, page = act(ui, key, "statuspage", name="Card payments failing", impact="major",
                       status="investigating", body="We are looking into failed payments.")
    assert status == 200 and "Public update posted to the status page." in page, page[-3000:]

    # The same clock second: the answers cached above are forgotten, not served again.
    after = ui.client.get("/status/api/v2/summary.json").json()
    assert [i["name"] for i in after["incidents"]] == ["Card payments failing"]
    assert "Card payments failing" in ui.client.get("/status/").text


def test_a_public_update_from_slack_shows_at_once_despite_the_cache(sw: SlackWeb) -> None:
    web = sw.web
    slash(sw, 'create "Payment API returning 500 errors" sev2 service:payment')
    web.runtime.engine.run_due()
    with web.runtime.sessions() as session:
        room = service.get(session, "INC-1", admin=True).slack_channel_id
    assert web.client.get("/status/api/v2/incidents/unresolved.json").json()["incidents"] == []

    slash(sw, "statuspage investigating Some card payments fail.", channel=room)

    unresolved = web.client.get("/status/api/v2/incidents/unresolved.json").json()
    assert [i["name"] for i in unresolved["incidents"]] == ["Payment API returning 500 errors"]


def test_slack_statuspage_on_a_private_incident_needs_a_public_title(sw: SlackWeb) -> None:
    web = sw.web
    slash(sw, 'create "Leaked key of ACME Corp" sev2 service:payment private')
    web.runtime.engine.run_due()

    refused = slash(sw, "statuspage INC-1 investigating Some payments fail.")
    nothing = public(web, "incidents.json")["incidents"]
    posted = slash(sw, 'statuspage INC-1 title="Payment delays" investigating '
                       "Some payments fail.")
    shown = everything_public(web)

    assert refused["response_type"] == "ephemeral"
    assert refused["text"].startswith("Nothing was changed: INC-1 is private")
    assert 'title=\\"...\\"' in json.dumps(refused["text"])
    assert nothing == []
    assert "posted to the status page for INC-1" in posted["text"]
    assert [i["name"] for i in public(web, "incidents.json")["incidents"]] == ["Payment delays"]
    assert "ACME" not in shown
    # Later updates need no title: the public face has one.
    later = slash(sw, "statuspage INC-1 resolved Payments work again.")
    assert "posted to the status page" in later["text"]


def test_the_incident_page_does_not_offer_a_private_incidents_title(ui: Web) -> None:
    key = declare(ui, "Leaked key of ACME Corp", "SEV2", ("payment",), private="yes")

    page = ui.client.get(f"/ui/incidents/{key}").text
    status, refused = act(ui, key, "statuspage", name="", impact="major",
                          status="investigating", body="Some payments fail.")

    assert 'value="Leaked key of ACME Corp"' not in page
    assert status == 400
    assert "give the public incident a title of its own" in field_error(refused, "statuspage-name")
    assert public(ui, "incidents.json")["incidents"] == []


def test_the_parser_reads_a_public_title_before_or_after_the_status() -> None:
    severities = ("SEV1",)
    before = commands.parse_incident('statuspage INC-7 title="Payment delays" monitoring Out',
                                     severities=severities)
    after = commands.parse_incident("statuspage monitoring title=“Slow pages” Watching.",
                                    severities=severities)
    open_quote = commands.parse_incident('statuspage title="Never closed monitoring x',
                                         severities=severities)

    assert before == commands.StatusPage("INC-7", "monitoring", "Out", "Payment delays")
    assert after == commands.StatusPage(None, "monitoring", "Watching.", "Slow pages")
    assert isinstance(open_quote, commands.Usage)
    assert open_quote.message.startswith("Put the public title in quotes")
