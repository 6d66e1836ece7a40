"""Opsgenie's own Python client (`opsgenie-sdk`), pointed at Tocsin.

A team that sends to Opsgenie with `opsgenie_sdk` changes only the host and
the key. The client creates an alert, polls the request status the way it
does after every write, acknowledges and closes by alias, names responders,
and gets Opsgenie's errors for a bad key and a body Opsgenie would refuse.
Retries are off, so an error is the server's first answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import opsgenie_sdk
import pytest

from tests.e2e.conftest import WEBHOOK_SECRET, TocsinApi, config_yaml, pages_for
from tests.support.server import TocsinServer, wait_until
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

OG_KEY = "og-e2e-key-6d0c2f"


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           hooks: WebhookReceiver) -> Iterator[TocsinServer]:
    # One server for the module: each test uses its own aliases.
    directory = tmp_path_factory.mktemp("opsgenie-client")
    text = config_yaml(hooks.base_url, [("primary", 5), ("dave", 0)]).replace(
        "integrations:\n",
        f"integrations:\n  - {{name: og, type: opsgenie, key: {OG_KEY}}}\n")
    config_path = Path(directory / "tocsin.yaml")
    config_path.write_text(text, encoding="utf-8")
    with TocsinServer(config_path, f"sqlite:///{directory / 'tocsin.db'}",
                      directory / "logs") as running:
        yield running


@pytest.fixture
def api(server: TocsinServer) -> Iterator[TocsinApi]:
    with TocsinApi(server.base_url) as client:
        yield client


def _alert_api(server: TocsinServer, key: str = OG_KEY) -> opsgenie_sdk.AlertApi:
    conf = opsgenie_sdk.configuration.Configuration()
    conf.host = server.base_url
    # Configuration() copies a shared default shallowly: give this one its own key dict.
    conf.api_key = {"Authorization": key}
    conf.retry_enabled = False
    conf.short_polling_max_retries = 2
    return opsgenie_sdk.AlertApi(api_client=opsgenie_sdk.ApiClient(configuration=conf))


def _alias(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _only(api: TocsinApi, alias: str) -> dict[str, Any]:
    [alert] = api.alerts(dedup_key=alias)
    return alert


def test_create_poll_acknowledge_and_close_by_alias(
    server: TocsinServer, api: TocsinApi, hooks: WebhookReceiver,
) -> None:
    alerts = _alert_api(server)
    alias = _alias("checkout")
    payload = opsgenie_sdk.CreateAlertPayload(
        message="Checkout error rate above 5% 結帳錯誤", alias=alias, priority="P1",
        description="p99 latency 2.3 s", tags=["checkout", "prod"],
        details={"region": "eu-west-1"}, entity="checkout-api", source="datadog")

    created = alerts.create_alert(create_alert_payload=payload)

    assert created.result == "Request will be processed" and created.request_id
    status = alerts.get_request_status(request_id=created.request_id)
    assert (status.data.is_success, status.data.action, status.data.alias) == (
        True, "Create", alias)
    alert = _only(api, alias)
    assert status.data.alert_id == str(alert["id"])
    assert created.id == str(alert["id"])  # the client's own short polling
    assert (alert["title"], alert["severity"], alert["urgency"]) == (
        "Checkout error rate above 5% 結帳錯誤", "P1", "high")
    wait_until(lambda: pages_for(hooks, alert["id"]), timeout=20, message="the first page")

    acked = alerts.acknowledge_alert(
        identifier=alias, identifier_type="alias",
        acknowledge_alert_payload=opsgenie_sdk.AcknowledgeAlertPayload(
            user="Jane", source="runbook-bot", note="on it"))
    assert alerts.get_request_status(request_id=acked.request_id).data.status == (
        "Acknowledged alert")
    assert (_only(api, alias)["status"], _only(api, alias)["acknowledged_by"]) == (
        "acknowledged", "integration:og")

    closed = alerts.close_alert(identifier=alias, identifier_type="alias",
                                close_alert_payload=opsgenie_sdk.CloseAlertPayload(note="fixed"))
    assert alerts.get_request_status(request_id=closed.request_id).data.is_success is True
    assert _only(api, alias)["status"] == "resolved"
    notes = [e["message"] for e in api.alert(alert["id"])["timeline"] if e["kind"] == "note"]
    assert notes == ["on it (user: Jane)", "fixed"]


def test_a_repeat_with_the_same_alias_is_one_alert(server: TocsinServer, api: TocsinApi) -> None:
    alerts = _alert_api(server)
    alias = _alias("disk")
    for _ in range(2):
        alerts.create_alert(create_alert_payload=opsgenie_sdk.CreateAlertPayload(
            message="Disk 92% on db-1", alias=alias))

    alert = _only(api, alias)
    assert alert["event_count"] == 2


def test_responders_are_paged_instead_of_the_route(
    server: TocsinServer, api: TocsinApi, hooks: WebhookReceiver,
) -> None:
    alerts = _alert_api(server)
    alias = _alias("for-dave")
    alerts.create_alert(create_alert_payload=opsgenie_sdk.CreateAlertPayload(
        message="Billing export stuck", alias=alias,
        responders=[{"type": "user", "username": "dave"}]))

    alert = _only(api, alias)
    pages = wait_until(lambda: pages_for(hooks, alert["id"]), timeout=20,
                       message="the responder's page")
    assert [page.path for page in pages] == ["/pages/dave"]


def test_acting_on_an_unknown_alias_is_accepted_and_fails_in_the_request_status(
    server: TocsinServer,
) -> None:
    alerts = _alert_api(server)

    closed = alerts.close_alert(identifier=_alias("never-sent"), identifier_type="alias")

    status = alerts.get_request_status(request_id=closed.request_id).data
    assert (status.is_success, status.status) == (False, "Alert does not exist")


def test_a_bad_key_is_refused_with_401(server: TocsinServer, api: TocsinApi) -> None:
    alerts = _alert_api(server, key="og-e2e-key-wrong")
    alias = _alias("bad-key")

    with pytest.raises(opsgenie_sdk.exceptions.AuthenticationException) as raised:
        alerts.create_alert(create_alert_payload=opsgenie_sdk.CreateAlertPayload(
            message="Should not land", alias=alias))

    assert raised.value.status == 401
    body = str(raised.value.body)
    assert "Could not authenticate" in body
    assert OG_KEY not in body and "wrong" not in body
    assert api.alerts(dedup_key=alias) == []
    log = server.stderr_path.read_text(encoding="utf-8")
    assert "opsgenie.refused status=401" in log
    assert OG_KEY not in log and "og-e2e-key-wrong" not in log


@pytest.mark.parametrize(("fields", "field"), [
    ({"message": "x" * 131}, "message"),
    ({"message": "ok", "responders": [{"type": "team", "name": "no-such-team"}]},
     "responders[0]"),
])
def test_a_body_opsgenie_would_refuse_is_422(
    server: TocsinServer, api: TocsinApi, fields: dict[str, Any], field: str,
) -> None:
    alerts = _alert_api(server)
    alias = _alias("refused")

    with pytest.raises(opsgenie_sdk.exceptions.ConfigurationException) as raised:
        alerts.create_alert(create_alert_payload=opsgenie_sdk.CreateAlertPayload(
            alias=alias, **fields))

    assert raised.value.status == 422
    assert field in str(raised.value.body)
    assert api.alerts(dedup_key=alias) == []
