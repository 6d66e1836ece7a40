"""Subscribers end to end: the public form, the engine, a real SMTP server and a webhook."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support.live_channels import LiveHarness
from tests.support.smtp_server import Received, SmtpServer
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.statuspage import service
from tocsin.statuspage.subscribers_store import StatusSubscriber
from tocsin.web.app import create_app

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
status_page: {title: Example Status}
components:
  - {name: API}
  - {name: Web}
api_tokens:
  - {name: status, token: status-writer-token, scope: write}
  - {name: reader, token: status-reader-token, scope: read}
notifications:
  email: {host: 127.0.0.1, port: PORT, security: none, from: "Status <status@tocsin.test>",
          timeout_seconds: 5}
"""


@pytest.fixture
def client(tocsin: LiveHarness) -> Iterator[TestClient]:
    with TestClient(create_app(tocsin.runtime, engine_required=False),
                    base_url="http://tocsin.test") as test_client:
        yield test_client


def declare(tocsin: LiveHarness, components: dict[str, str]) -> int:
    with transaction(tocsin.runtime.sessions) as session:
        row = service.create_incident(
            session, config=tocsin.config, name="Checkout errors", impact="major",
            status="investigating", body="We are looking into failed payments.",
            components=components, actor="ann", surface="api", now=tocsin.clock.now())
        return row.id


def post_update(tocsin: LiveHarness, incident: int, status: str, body: str) -> None:
    with transaction(tocsin.runtime.sessions) as session:
        service.post_update(session, config=tocsin.config, incident=incident, status=status,
                            body=body, actor="ann", surface="api", now=tocsin.clock.now())


WRITER = {"Authorization": "Bearer status-writer-token"}


def link(mail: Received, kind: str) -> str:
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [found] = re.findall(rf"http://tocsin\.test(/status/subscriptions/{kind}/\S+)", text)
    return str(found)


def test_a_subscriber_confirms_hears_an_update_unsubscribes_and_then_hears_nothing(
    tocsin: LiveHarness, client: TestClient, smtp: SmtpServer
) -> None:
    answer = client.post("/status/subscribe", data={"email": "carol@example.com"})
    assert answer.status_code == 202
    assert "Check your e-mail" in answer.text
    tocsin.runtime.engine.run_due()
    [confirmation] = smtp.messages
    assert confirmation.rcpt_tos == ["carol@example.com"]
    assert confirmation.message["Subject"] == "Confirm your subscription to Example Status"

    # Unconfirmed: an incident declared now is not mailed, and opening the link changes nothing.
    incident = declare(tocsin, {"API": "major_outage"})
    confirm = link(confirmation, "confirm")
    assert 'method="post"' in client.get(confirm).text
    tocsin.runtime.engine.run_due()
    assert len(smtp.messages) == 1

    assert client.post(confirm).status_code == 200
    post_update(tocsin, incident, "identified", "A bad deploy; rolling back.")
    tocsin.runtime.engine.run_due()
    [update] = smtp.messages[1:]
    assert update.message["Subject"] == "[Example Status] Checkout errors: identified"
    assert "A bad deploy; rolling back." in update.message.get_body(
        ("plain",)).get_content()  # type: ignore[union-attr]
    unsubscribe = link(update, "unsubscribe")
    assert update.message["List-Unsubscribe"] == f"<http://tocsin.test{unsubscribe}>"
    # On the wire as written: a mail client reads no RFC 2047 encoded word there.
    assert f"\r\nList-Unsubscribe: <http://tocsin.test{unsubscribe}>\r\n".encode() \
        in update.raw
    assert update.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The mail client's one-click POST (RFC 8058).
    gone = client.post(unsubscribe, content=b"List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert gone.status_code == 200
    assert "Unsubscribed" in gone.text
    post_update(tocsin, incident, "resolved", "Payments work again.")
    tocsin.runtime.engine.run_due()
    assert len(smtp.messages) == 2


def test_a_tampered_link_confirms_nobody(
    tocsin: LiveHarness, client: TestClient, smtp: SmtpServer
) -> None:
    client.post("/status/subscribe", data={"email": "carol@example.com"})
    tocsin.runtime.engine.run_due()
    confirm = link(smtp.messages[0], "confirm")
    answer = client.post(confirm[:-3] + ("AAA" if not confirm.endswith("AAA") else "BBB"))
    assert answer.status_code == 400
    assert "not valid" in answer.text
    declare(tocsin, {"API": "major_outage"})
    tocsin.runtime.engine.run_due()
    assert len(smtp.messages) == 1


def test_a_webhook_for_one_component_gets_signed_posts_for_its_incidents_only(
    tocsin: LiveHarness, client: TestClient, clock: FakeClock
) -> None:
    with WebhookReceiver("unknown yet", now=lambda: int(clock.now().timestamp()),
                         reject_bad_signatures=True) as receiver:
        api = client.post("/status/subscribe",
                          json={"endpoint": receiver.url("/api"), "components": ["api"]},
                          headers=WRITER)
        web = client.post("/status/subscribe",
                          json={"endpoint": receiver.url("/web"), "components": ["Web"]},
                          headers=WRITER)
        assert api.status_code == web.status_code == 202
        assert api.json()["status"] == "active"
        assert api.json()["components"] == ["API"]
        receiver.secret = api.json()["secret"]

        declare(tocsin, {"API": "major_outage"})
        tocsin.runtime.engine.run_due()

        [post] = receiver.requests
        assert post.path == "/api"
        assert post.signature_valid
        assert post.json["event"] == "status.update"
        assert post.json["incident"]["name"] == "Checkout errors"
        assert post.json["update"]["components"] == {"API": "major_outage"}
        assert post.idempotency_key == f"status-notice-{post.json['notice_id']}"


def test_bad_subscriptions_are_refused_naming_the_field(client: TestClient) -> None:
    answer = client.post("/status/subscribe",
                         json={"email": "not an address", "components": ["Nope"]})
    assert answer.status_code == 400
    fields = {problem["path"] for problem in answer.json()["error"]["fields"]}
    assert fields == {"email", "components.Nope"}
    form = client.post("/status/subscribe", data={"endpoint": "ftp://example.com/x"},
                       headers=WRITER)
    assert form.status_code == 400
    assert "endpoint: must be an http or https URL" in form.text


def test_only_a_write_token_may_make_tocsin_post_to_an_address(
    tocsin: LiveHarness, client: TestClient
) -> None:
    inside = {"endpoint": "http://10.0.0.7/admin"}
    anonymous = client.post("/status/subscribe", json=inside)
    form = client.post("/status/subscribe", data=inside)
    reader = client.post("/status/subscribe", json=inside,
                         headers={"Authorization": "Bearer status-reader-token"})
    assert (anonymous.status_code, form.status_code, reader.status_code) == (401, 401, 403)
    with transaction(tocsin.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(StatusSubscriber)) == 0
    allowed = client.post("/status/subscribe", json=inside, headers=WRITER)
    assert allowed.status_code == 202


def test_a_webhook_that_fails_is_tried_again_and_one_that_refuses_is_not(
    tocsin: LiveHarness, client: TestClient, clock: FakeClock
) -> None:
    with WebhookReceiver("unknown yet", now=lambda: int(clock.now().timestamp())) as receiver:
        down = client.post("/status/subscribe", json={"endpoint": receiver.url("/down")},
                           headers=WRITER)
        gone = client.post("/status/subscribe", json={"endpoint": receiver.url("/gone")},
                           headers=WRITER)
        receiver.secret = down.json()["secret"]
        assert gone.json()["secret"] != receiver.secret
        receiver.respond_next(500)
        receiver.respond_next(404)
        declare(tocsin, {"Web": "degraded_performance"})
        tocsin.runtime.engine.run_due()
        assert [(r.path, r.status) for r in receiver.requests] == [("/down", 500),
                                                                   ("/gone", 404)]

        tocsin.advance(2)  # the first retry is due within 10 s

        assert [(r.path, r.status) for r in receiver.requests[2:]] == [("/down", 200)]
        assert receiver.requests[2].signature_valid
        assert receiver.requests[2].idempotency_key == receiver.requests[0].idempotency_key
