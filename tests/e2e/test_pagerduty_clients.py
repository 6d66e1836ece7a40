"""PagerDuty's own Python clients, pointed at Tocsin's /v2/enqueue.

A team that sends to PagerDuty with `pagerduty` or `pdpyras` changes only
the base URL and the routing key. Each client triggers, repeats the
trigger, acknowledges and resolves, and gets PagerDuty's errors for an
invalid event and an unknown routing key.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pagerduty
import pytest

from tests.e2e.conftest import PD_KEY, WEBHOOK_SECRET, TocsinApi, pages_for, write_config
from tests.support.server import TocsinServer, wait_until
from tests.support.webhook_receiver import WebhookReceiver

with warnings.catch_warnings():
    # pdpyras announces its deprecation with a UserWarning at import time.
    warnings.simplefilter("ignore")
    import pdpyras

pytestmark = pytest.mark.e2e


class LocalEventsClient(pagerduty.EventsApiV2Client):
    """The `pagerduty` client, allowed a plain-HTTP loopback base URL.

    Its `url` setter insists on https://; the test server is http on
    127.0.0.1, so this subclass keeps the check out of the way.
    """

    @property
    def url(self) -> str:
        return str(self._url)

    @url.setter
    def url(self, new_base_url: str) -> None:
        self._url = new_base_url


def _pagerduty_client(base_url: str, routing_key: str) -> Any:
    return LocalEventsClient(routing_key, base_url=base_url)


def _pdpyras_session(base_url: str, routing_key: str) -> Any:
    session = pdpyras.EventsAPISession(routing_key)
    session.url = base_url
    return session


CLIENTS: dict[str, tuple[Callable[[str, str], Any], type[Exception]]] = {
    "pagerduty": (_pagerduty_client, pagerduty.HttpError),
    "pdpyras": (_pdpyras_session, pdpyras.PDHTTPError),
}


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           hooks: WebhookReceiver) -> Iterator[TocsinServer]:
    # One server for the module: each test uses its own dedup keys.
    directory = tmp_path_factory.mktemp("pd-clients")
    config_path = write_config(directory, hooks.base_url, [("primary", 0)])
    with TocsinServer(config_path, f"sqlite:///{directory / 'tocsin.db'}",
                      directory / "logs") as running:
        yield running


@pytest.fixture
def api(server: TocsinServer) -> Iterator[TocsinApi]:
    with TocsinApi(server.base_url) as client:
        yield client


@pytest.fixture(params=sorted(CLIENTS))
def client_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _client(kind: str, server: TocsinServer, routing_key: str = PD_KEY) -> Any:
    factory, _error = CLIENTS[kind]
    return factory(server.base_url, routing_key)


def _only(api: TocsinApi, dedup_key: str) -> dict[str, Any]:
    [alert] = api.alerts(dedup_key=dedup_key)
    return alert


def test_trigger_repeat_acknowledge_resolve(
    client_kind: str, server: TocsinServer, api: TocsinApi, hooks: WebhookReceiver,
) -> None:
    client = _client(client_kind, server)
    summary = f"Checkout latency high ({client_kind}) 結帳延遲 🐢"

    dedup_key = client.trigger(summary, "checkout-1", severity="error",
                               custom_details={"p99_ms": 2300})
    assert isinstance(dedup_key, str) and dedup_key
    alert = _only(api, dedup_key)
    assert (alert["status"], alert["title"], alert["event_count"]) == (
        "triggered", summary, 1)
    assert alert["severity"] == "error"
    wait_until(lambda: pages_for(hooks, alert["id"]), timeout=20, message="the first page")

    assert client.trigger(summary, "checkout-1", dedup_key=dedup_key) == dedup_key
    repeated = _only(api, dedup_key)
    assert (repeated["id"], repeated["event_count"]) == (alert["id"], 2)

    assert client.acknowledge(dedup_key) == dedup_key
    acked = _only(api, dedup_key)
    assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", "integration:pd")

    assert client.resolve(dedup_key) == dedup_key
    resolved = _only(api, dedup_key)
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", "integration:pd")

    webhook_pages = [n for n in api.alert(alert["id"])["notifications"]
                     if n["channel"] == "webhook"]
    assert len(webhook_pages) == 1, "the repeated trigger must not page again"
    assert len(pages_for(hooks, alert["id"])) == 1


def test_events_for_a_closed_key_are_dropped_and_a_new_trigger_reopens(
    client_kind: str, server: TocsinServer, api: TocsinApi,
) -> None:
    client = _client(client_kind, server)
    dedup_key = f"disk-full-{client_kind}-{uuid.uuid4().hex[:8]}"
    client.trigger("Disk full on db-1", "db-1", dedup_key=dedup_key, severity="warning")
    client.resolve(dedup_key)

    # PagerDuty answers 202 and drops an acknowledge for a resolved alert.
    assert client.acknowledge(dedup_key) == dedup_key
    assert _only(api, dedup_key)["status"] == "resolved"

    client.trigger("Disk full on db-1 again", "db-1", dedup_key=dedup_key, severity="warning")
    newest, oldest = api.alerts(dedup_key=dedup_key)
    assert (newest["status"], oldest["status"]) == ("triggered", "resolved")
    assert newest["id"] != oldest["id"]


def test_invalid_event_is_refused_with_400(
    client_kind: str, server: TocsinServer, api: TocsinApi,
) -> None:
    client = _client(client_kind, server)
    _factory, error = CLIENTS[client_kind]
    before = len(api.alerts(limit=1000))

    with pytest.raises(error) as raised:
        client.trigger("Queue depth high", "mq-1", severity="catastrophic")

    response = raised.value.response  # type: ignore[attr-defined]
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert any("payload.severity" in message for message in body["errors"])
    assert len(api.alerts(limit=1000)) == before


def test_unknown_routing_key_is_refused_with_400(
    client_kind: str, server: TocsinServer, api: TocsinApi,
) -> None:
    client = _client(client_kind, server, routing_key="R0000000000000000000000000unknown")
    _factory, error = CLIENTS[client_kind]
    before = len(api.alerts(limit=1000))

    with pytest.raises(error) as raised:
        client.trigger("Queue depth high", "mq-1")

    response = raised.value.response  # type: ignore[attr-defined]
    assert response.status_code == 400
    assert "routing key" in response.json()["message"].lower()
    assert len(api.alerts(limit=1000)) == before


def _send_change(kind: str, server: TocsinServer, summary: str, routing_key: str = PD_KEY) -> Any:
    links = [{"href": "https://ci.example.net/deploys/77", "text": "Deploy 77"}]
    details = {"commit": "4f2a9c1", "by": "alice"}
    if kind == "pagerduty":
        client = LocalEventsClient(routing_key, base_url=server.base_url)
        # submit() without a timestamp fails inside pagerduty 7.2 (its event_timestamp
        # calls datetime.timezone on the datetime class), so the test passes one.
        return client.submit(summary, "deploy-bot", custom_details=details, links=links,
                             timestamp="2026-12-04T15:58:00.250+0000")
    session = pdpyras.ChangeEventsAPISession(routing_key)
    session.url = server.base_url
    return session.submit(summary, "deploy-bot", custom_details=details, links=links)


def test_change_events_are_stored_and_page_nobody(
    client_kind: str, server: TocsinServer, api: TocsinApi, hooks: WebhookReceiver,
) -> None:
    summary = f"Deployed checkout v2.14.0 via {client_kind} 部署 🚀"
    alerts_before = len(api.alerts(limit=1000))

    returned = _send_change(client_kind, server, summary)

    changes = api.client.get("/api/v1/changes", params={"integration": "pd"})
    assert changes.status_code == 200, changes.text
    [stored] = [c for c in changes.json()["changes"] if c["summary"] == summary]
    if client_kind == "pdpyras":  # it hands back the reply's id; pagerduty returns nothing
        assert returned == str(stored["id"])
    assert (stored["source"], stored["details"]) == (
        "deploy-bot", {"commit": "4f2a9c1", "by": "alice"})
    assert stored["links"] == [{"href": "https://ci.example.net/deploys/77",
                                "text": "Deploy 77"}]
    if client_kind == "pagerduty":
        assert stored["happened_at"] == "2026-12-04T15:58:00Z"
    assert len(api.alerts(limit=1000)) == alerts_before, "a change event opens no alert"
    paged = [r for r in list(hooks.requests) if r.json.get("alert", {}).get("title") == summary]
    assert paged == [], "a change event pages nobody"


def test_a_change_event_for_an_unknown_routing_key_is_refused(
    client_kind: str, server: TocsinServer,
) -> None:
    _factory, error = CLIENTS[client_kind]
    with pytest.raises(error) as raised:
        _send_change(client_kind, server, "Deployed", routing_key="R000000000000000unknown")

    response = raised.value.response  # type: ignore[attr-defined]
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
