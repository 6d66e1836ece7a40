"""The subscribe form on the public page: a browser's post, a real SMTP server, the limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.statuspage.html_check import html_problems
from tests.support.live_channels import LiveHarness
from tests.support.smtp_server import SmtpServer
from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.statuspage import service
from tocsin.statuspage.subscribers_store import StatusSubscriber
from tocsin.web.app import create_app
from tocsin.web.statuspage_subscribe import LIMIT, PerClient

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
status_page: {title: Example Status}
components:
  - {name: API}
  - {name: Web}
  - {name: Ledger, public: false}
api_tokens:
  - {name: status, token: status-writer-token, scope: write}
notifications:
  email: {host: 127.0.0.1, port: PORT, security: none, from: "Status <status@tocsin.test>",
          timeout_seconds: 5}
"""


@pytest.fixture
def client(tocsin: LiveHarness) -> Iterator[TestClient]:
    with TestClient(create_app(tocsin.runtime, engine_required=False),
                    base_url="http://tocsin.test", client=("203.0.113.7", 50000)) as made:
        yield made


def form_of(html: str) -> str:
    found = re.search(r'<form method="post" action="/status/subscribe">.*?</form>', html, re.S)
    assert found is not None, "no subscribe form on the page"
    return found.group(0)


def test_the_page_has_a_labelled_form_for_public_components_and_lets_it_post(
    tocsin: LiveHarness, client: TestClient
) -> None:
    answer = client.get("/status/")
    form = form_of(answer.text)

    assert html_problems(answer.text) == []
    assert '<label for="subscribe-email">E-mail address</label>' in form
    assert re.search(r'<input id="subscribe-email" name="email" type="email" required', form)
    assert re.findall(r'name="component" value="([^"]+)"', form) == ["API", "Web"]
    assert "<legend>" in form
    assert "form-action 'self'" in answer.headers["content-security-policy"]
    # Only the page with the form may post anywhere: an incident's page still may not.
    with transaction(tocsin.runtime.sessions) as session:
        row = service.create_incident(
            session, config=tocsin.config, name="Checkout errors", impact="minor",
            status="investigating", body="Looking.", actor="ann", surface="api",
            now=tocsin.runtime.clock.now())
    incident = client.get(f"/status/incidents/{row.id}")
    assert incident.status_code == 200
    assert "form-action 'none'" in incident.headers["content-security-policy"]
    assert "<form" not in incident.text


def test_posting_the_form_mails_a_confirmation_for_the_chosen_components(
    tocsin: LiveHarness, client: TestClient, smtp: SmtpServer
) -> None:
    answer = client.post("/status/subscribe",
                         data={"email": "dana@example.com", "component": ["Web"]})

    assert answer.status_code == 202
    assert "<h1>Check your e-mail</h1>" in answer.text
    assert '<a href="/status/">Back to the status page</a>' in answer.text
    assert html_problems(answer.text) == []
    tocsin.runtime.engine.run_due()
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["dana@example.com"]
    assert mail.message["Subject"] == "Confirm your subscription to Example Status"
    with tocsin.runtime.sessions() as session:
        [row] = session.scalars(select(StatusSubscriber))
    assert (row.address, row.components, row.confirmed_at) == ("dana@example.com", ["Web"],
                                                                None)


def test_a_bad_address_is_shown_on_a_page_naming_the_field(client: TestClient) -> None:
    answer = client.post("/status/subscribe", data={"email": "not an address"})

    assert answer.status_code == 400
    assert "<li>email: must be an e-mail address" in answer.text


def test_one_address_may_subscribe_a_few_times_an_hour_then_waits(
    tocsin: LiveHarness, client: TestClient, clock: FakeClock
) -> None:
    for n in range(LIMIT):
        assert client.post("/status/subscribe",
                           data={"email": f"u{n}@example.com"}).status_code == 202
    refused = client.post("/status/subscribe", data={"email": "one.more@example.com"})
    as_json = client.post("/status/subscribe", json={"email": "json@example.com"})

    assert refused.status_code == as_json.status_code == 429
    assert "try again in 60 minutes" in refused.text
    assert refused.headers["retry-after"] == "3600"
    assert as_json.json()["error"]["code"] == "rate_limited"
    with tocsin.runtime.sessions() as session:
        addresses = set(session.scalars(select(StatusSubscriber.address)))
    assert "one.more@example.com" not in addresses and len(addresses) == LIMIT

    clock.advance(minutes=60)
    assert client.post("/status/subscribe",
                       data={"email": "one.more@example.com"}).status_code == 202


WITHOUT_EMAIL = CONFIG[:CONFIG.index("notifications:")]


@pytest.fixture
def mailless(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, WITHOUT_EMAIL)
    yield made
    close_web(made)


def test_without_email_the_page_offers_no_form_and_a_post_is_refused_plainly(
    mailless: Web
) -> None:
    # Product bug: the form answered 202 "We sent a link to confirm" with no mail server.
    page = mailless.client.get("/status/")
    posted = mailless.client.post("/status/subscribe", data={"email": "dana@example.com"})
    as_json = mailless.client.post("/status/subscribe", json={"email": "dana@example.com"})

    assert page.status_code == 200
    assert 'action="/status/subscribe"' not in page.text
    assert posted.status_code == 409
    assert "cannot send e-mail, so it takes no e-mail subscriptions" in posted.text
    assert "We sent a link" not in posted.text
    assert html_problems(posted.text) == []
    assert as_json.status_code == 409
    assert "set notifications.email" in as_json.json()["error"]["message"]
    with mailless.runtime.sessions() as session:
        assert list(session.scalars(select(StatusSubscriber))) == []


def test_without_email_a_webhook_may_still_subscribe(mailless: Web) -> None:
    answer = mailless.client.post("/status/subscribe",
                                  json={"endpoint": "http://127.0.0.1:9/status"},
                                  headers={"Authorization": "Bearer status-writer-token"})

    assert answer.status_code == 202, answer.text
    assert answer.json()["kind"] == "webhook"


def test_the_limit_counts_each_client_on_its_own_and_forgets_old_requests() -> None:
    limiter = PerClient(2, timedelta(minutes=10))
    start = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)

    assert limiter.take("a", start) is None
    assert limiter.take("a", start + timedelta(minutes=4)) is None
    assert limiter.take("a", start + timedelta(minutes=5)) == timedelta(minutes=5)
    assert limiter.take("b", start + timedelta(minutes=5)) is None
    assert limiter.take("a", start + timedelta(minutes=10)) is None
