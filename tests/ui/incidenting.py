"""What the incident page tests share: a config, log-ins for three people, and form posts.

Alice is an admin (her API token has admin scope) and reads times in
Asia/Bangkok (UTC+7); Bob and Carol are not admins and read UTC. The fake
clock starts on Monday 2026-03-02 at 03:00 UTC, 10:00 in Bangkok.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from tests.ui.conftest import csrf_of, log_in, set_password
from tests.web.conftest import Web, close_web, make_web
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock

INCIDENTS_CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, timezone: Asia/Bangkok, contacts: {webhook: "http://hooks.test/a"}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/bob"}}
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}
services:
  - {name: payment, escalation_policy: critical}
  - {name: search}
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
routes:
  - {notify: critical}
integrations:
  - {name: prometheus, type: alertmanager, key: am-key-7f3a9c2e51, service: payment}
notifications:
  webhook: {secret: web-test-webhook-secret}
api_tokens:
  - {name: admin, token: admin-token-9c0d1e2f, user: alice, scope: admin}
"""


def start(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    """For a test module's fixture: the web app, with alice logged in."""
    made = make_web(tmp_path, db_url, clock, INCIDENTS_CONFIG)
    for person in ("alice", "bob", "carol"):
        set_password(made, person)
    log_in(made.client, "alice")
    yield made
    close_web(made)


def as_user(web: Web, person: str) -> None:
    """Log the test client in as `person` (a new session replaces the old one)."""
    web.client.post("/ui/logout", data={"csrf": csrf_of(web.client.get("/ui/").text)})
    log_in(web.client, person)


def token(web: Web) -> str:
    return csrf_of(web.client.get("/ui/incidents/new").text)


def declare(web: Web, title: str = "Checkout failing", severity: str = "SEV2",
            services: tuple[str, ...] = ("payment",), **extra: str) -> str:
    """Declare with the form; the new incident's key."""
    data: dict[str, object] = {"csrf": token(web), "title": title, "severity": severity,
                               "services": list(services), **extra}
    response = web.client.post("/ui/incidents", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    web.runtime.engine.run_due()
    found = re.fullmatch(r"/ui/incidents/(INC-\d+)\?done=declared", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def act(web: Web, key: str, action: str, **data: object) -> tuple[int, str]:
    """Post one of the incident page's forms; the status and the page shown after it."""
    data.setdefault("csrf", csrf_of(web.client.get(f"/ui/incidents/{key}").text))
    response = web.client.post(f"/ui/incidents/{key}/{action}", data=data,
                               follow_redirects=False)
    if response.status_code != 303:
        return response.status_code, response.text
    landed = web.client.get(response.headers["location"])
    return landed.status_code, landed.text


def timeline_rows(page: str) -> list[tuple[str, str]]:
    """The timeline's rows, oldest first: each kind, and its text with tags dropped."""
    body = page.split('class="timeline-table incident-timeline"')[1].split("</tbody>")[0]
    rows = body.split('<tr data-kind="')[1:]
    return [(row.split('"')[0],
             html.unescape(" ".join(re.sub(r"<[^>]+>", " ", row.split(">", 1)[1]).split())))
            for row in rows]


def field_error(page: str, field_id: str) -> str:
    found = re.search(rf'<span class="field-error" id="{field_id}-error">(.*?)</span>', page,
                      re.S)
    return html.unescape(" ".join(found.group(1).split())) if found else ""


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-incident="(INC-\d+)"', page)


def audit_of(web: Web, key: str) -> list[tuple[str, str, str]]:
    with web.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.object_id == key)
                               .order_by(AuditEntry.id))
        return [(row.action, row.actor, row.surface) for row in rows]
