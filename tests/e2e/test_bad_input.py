"""Hostile and odd input to the ingest endpoints: refused clearly or kept whole.

Every request here gets either a 4xx whose message names the field at
fault, or is stored exactly as sent (read back through the API and
compared). Never a 500, never a lost alert. These run in process on
SQLite and PostgreSQL; one test sends a chunked body over a real socket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.e2e.conftest import AM_KEY, API_TOKEN, PD_KEY, write_config
from tests.support.server import TocsinServer
from tocsin.engine.runtime import build_runtime
from tocsin.web.app import create_app

AM_PATH = f"/integrations/{AM_KEY}/alertmanager"
PD_PATH = "/v2/enqueue"
PD_LIMIT = 512 * 1024
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}

# TestClient answers with httpx2 responses, the socket test with httpx ones;
# both have status_code, text and json().
Reply = Any

# Thai, Chinese, Arabic (right to left), emoji with a skin tone and a ZWJ.
TEXT = "ระบบชำระเงินล่ม 支付系统故障 فشل نظام الدفع 🔥🚨 👩🏽‍💻"


@pytest.fixture
def client(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    # The engine is not started: nothing is paged, only stored.
    config_path = write_config(tmp_path, "http://127.0.0.1:9", [("primary", 0)])
    runtime = build_runtime(config_path=config_path, db_url=db_url)
    app = create_app(runtime, engine_required=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    runtime.db.dispose()


def encode(body: Any) -> bytes:
    # ASCII escapes let a lone surrogate travel as the JSON text "\ud800".
    return json.dumps(body).encode("ascii")


def am_alert(**fields: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "firing", "labels": {"alertname": "HighLatency", "job": "api"},
        "annotations": {"summary": "latency high"}, "startsAt": "2026-12-01T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z", "fingerprint": uuid.uuid4().hex[:16],
    }
    alert.update(fields)
    return alert


def am_body(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "tocsin", "groupKey": "{}:{}",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.invalid", "alerts": list(alerts)}


def pd_event(**payload: Any) -> dict[str, Any]:
    base = {"summary": "Checkout failing", "source": "checkout-1", "severity": "critical"}
    return {"routing_key": PD_KEY, "event_action": "trigger",
            "payload": {**base, **payload}}


def post(client: TestClient, path: str, body: Any) -> Reply:
    content = body if isinstance(body, bytes) else encode(body)
    return client.post(path, content=content, headers={"Content-Type": "application/json"})


def problems(response: Reply) -> str:
    """Everything a 4xx answer says, in one string to search for a field."""
    body = response.json()
    if "error" in body:
        error = body["error"]
        return " ".join([error["message"], *(f"{f['path']} {f['message']}"
                                             for f in error["fields"])])
    return " ".join([body.get("message", ""), *body.get("errors", [])])


def assert_refused(response: Reply, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert field in problems(response), f"{field!r} not named in {response.text}"


def stored(client: TestClient, dedup_key: str) -> list[dict[str, Any]]:
    found = client.get("/api/v1/alerts", params={"dedup_key": dedup_key}, headers=AUTH)
    assert found.status_code == 200, found.text
    details = []
    for alert in found.json()["alerts"]:
        detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=AUTH)
        assert detail.status_code == 200, detail.text
        details.append(detail.json())
    return details


def alert_count(client: TestClient) -> int:
    found = client.get("/api/v1/alerts", params={"limit": 1000}, headers=AUTH)
    return len(found.json()["alerts"])


# --- not JSON, or not the right JSON -----------------------------------------


@pytest.mark.parametrize("path", [AM_PATH, PD_PATH])
@pytest.mark.parametrize(("raw", "says"), [
    (b'{"alerts": [}', "not valid JSON"),
    (b"", "empty"),
    (b'{"alerts": "\xff\xfe caf\xe9"}', "UTF-8"),
    (b'{"a": 1} {"b": 2}', "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON"),  # nesting deeper than any parser's stack
])
def test_a_body_that_is_not_json_is_refused(
    client: TestClient, path: str, raw: bytes, says: str,
) -> None:
    response = post(client, path, raw)
    assert response.status_code == 400, response.text
    assert says in problems(response)
    if path == PD_PATH:
        assert response.json()["status"] == "invalid event"
    assert alert_count(client) == 0


@pytest.mark.parametrize(("body", "field"), [
    (["not", "an", "object"], "body"),
    ({"alerts": {"0": am_alert()}}, "alerts"),
    ({"alerts": None}, "alerts"),
    (am_body(am_alert(labels=["alertname", "HighLatency"])), "alerts[0].labels"),
    (am_body(am_alert(annotations="latency high")), "alerts[0].annotations"),
    (am_body(am_alert(labels={"alertname": {"nested": "x"}})), "alerts[0].labels.alertname"),
    (am_body(am_alert(status="burning")), "alerts[0].status"),
    (am_body(am_alert(startsAt=1733300000)), "alerts[0].startsAt"),
    (am_body(am_alert(startsAt="yesterday")), "alerts[0].startsAt"),
    (am_body(am_alert(fingerprint=12345)), "alerts[0].fingerprint"),
    (am_body(am_alert(generatorURL=["http://x.invalid"])), "alerts[0].generatorURL"),
    ({**am_body(), "alerts": ["an alert"]}, "alerts[0]"),
])
def test_alertmanager_wrong_types_are_refused_naming_the_field(
    client: TestClient, body: Any, field: str,
) -> None:
    assert_refused(post(client, AM_PATH, body), field)
    assert alert_count(client) == 0


@pytest.mark.parametrize(("event", "field"), [
    ({**pd_event(), "event_action": "fire"}, "event_action"),
    (pd_event(severity="CRITICAL"), "payload.severity"),
    (pd_event(severity="high"), "payload.severity"),
    ({**pd_event(), "payload": ["Checkout failing"]}, "payload"),
    ({**pd_event(), "payload": None}, "payload"),
    (pd_event(summary=None), "payload.summary"),
    (pd_event(summary="x" * 1025), "payload.summary"),
    (pd_event(source=7), "payload.source"),
    (pd_event(timestamp="last tuesday"), "payload.timestamp"),
    ({**pd_event(), "dedup_key": "k" * 256}, "dedup_key"),
    ({**pd_event(), "dedup_key": 42}, "dedup_key"),
    ({**pd_event(), "routing_key": 42}, "routing_key"),
    ({"routing_key": PD_KEY, "event_action": "resolve"}, "dedup_key"),
])
def test_pagerduty_wrong_types_are_refused_naming_the_field(
    client: TestClient, event: dict[str, Any], field: str,
) -> None:
    response = post(client, PD_PATH, event)
    assert_refused(response, field)
    assert response.json()["status"] == "invalid event"
    assert alert_count(client) == 0


# --- text no store can keep --------------------------------------------------


@pytest.mark.parametrize(("path", "body", "field"), [
    (AM_PATH, am_body(am_alert(labels={"alertname": "A", "team": "pay\u0000ments"})),
     "alerts[0].labels.team"),
    (AM_PATH, am_body(am_alert(labels={"alertname": "A", "te\u0000am": "payments"})),
     "alerts[0].labels"),
    (AM_PATH, am_body(am_alert(annotations={"summary": "broken \ud800 text"})),
     "alerts[0].annotations.summary"),
    (AM_PATH, am_body(am_alert(fingerprint="\udfff" * 4)), "alerts[0].fingerprint"),
    (PD_PATH, pd_event(summary="broken \ud800 text"), "payload.summary"),
    (PD_PATH, pd_event(summary="nul \u0000 here"), "payload.summary"),
    (PD_PATH, pd_event(custom_details={"deep": {"er": ["ok", "nul\u0000"]}}),
     "payload.custom_details.deep.er[1]"),
    (PD_PATH, {**pd_event(), "dedup_key": "key-\ud83d"}, "dedup_key"),
])
def test_nul_and_lone_surrogates_are_refused_naming_the_field(
    client: TestClient, path: str, body: Any, field: str,
) -> None:
    assert_refused(post(client, path, body), field)
    assert alert_count(client) == 0


def test_a_bad_alert_among_good_ones_costs_only_itself(client: TestClient) -> None:
    good = [am_alert(labels={"alertname": f"Good{n}"}) for n in range(3)]
    bad = [am_alert(labels=["alertname", "Bad"]),
           am_alert(annotations={"summary": "nul \u0000"})]
    response = post(client, AM_PATH, am_body(good[0], bad[0], good[1], bad[1], good[2]))

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["accepted"] == 3
    assert {r["path"] for r in reply["rejected"]} >= {"alerts[1].labels",
                                                      "alerts[3].annotations.summary"}
    for alert in good:
        [kept] = stored(client, alert["fingerprint"])
        assert kept["labels"] == alert["labels"]
    assert alert_count(client) == 3


# --- the whole world's text --------------------------------------------------


def test_alertmanager_text_in_every_field_is_stored_intact(client: TestClient) -> None:
    labels = {"alertname": "支付错误🔥", "severity": "วิกฤต", "service": "الدفع",
              "instance": "ホスト-\u0661:9100", "ทีม🚀": "فريق 支付"}
    annotations = {"summary": TEXT, "description": TEXT * 3,
                   "runbook_url": "https://wiki.invalid/运行手册/🔥"}
    alert = am_alert(labels=labels, annotations=annotations, fingerprint="指纹-🔥-ลายนิ้ว",
                     generatorURL="http://prometheus.invalid/图表?q=🔥")
    response = post(client, AM_PATH, am_body(alert))
    assert response.status_code == 200, response.text

    [kept] = stored(client, alert["fingerprint"])
    assert kept["dedup_key"] == alert["fingerprint"]
    assert (kept["title"], kept["description"]) == (TEXT, TEXT * 3)
    assert kept["labels"] == labels
    assert kept["details"]["annotations"] == annotations
    assert (kept["severity"], kept["service"]) == ("วิกฤต", "الدفع")
    assert kept["source_url"] == alert["generatorURL"]
    assert kept["runbook_url"] == annotations["runbook_url"]


def test_pagerduty_text_in_every_field_is_stored_intact(client: TestClient) -> None:
    details = {"说明": TEXT, "ข้อมูล": {"รายการ": ["🔥", "عربي", 3.5, None, True]}}
    event = {**pd_event(summary=TEXT, source="服务器-\u0661", component="مكون🔧",
                        group="กลุ่ม", custom_details=details),
             "dedup_key": "คีย์-密钥-مفتاح-🔑", "client": "クライアント",
             "links": [{"href": "https://status.invalid/ลิงก์", "text": "链接"}]}
    event["payload"]["class"] = "类别"
    response = post(client, PD_PATH, event)
    assert response.status_code == 202, response.text
    assert response.json()["dedup_key"] == event["dedup_key"]

    [kept] = stored(client, event["dedup_key"])
    assert kept["title"] == TEXT
    assert kept["labels"] == {"component": "مكون🔧", "group": "กลุ่ม", "class": "类别",
                              "severity": "critical", "source": "服务器-\u0661"}
    assert kept["details"]["custom_details"] == details
    assert kept["source_url"] == "https://status.invalid/ลิงก์"


# --- size --------------------------------------------------------------------


def _oversized_event() -> bytes:
    body = encode(pd_event(custom_details={"blob": "x" * PD_LIMIT}))
    assert len(body) > PD_LIMIT
    return body


def test_pagerduty_body_over_512_kb_is_413(client: TestClient) -> None:
    response = post(client, PD_PATH, _oversized_event())
    assert response.status_code == 413, response.text
    assert alert_count(client) == 0


def test_pagerduty_chunked_body_over_512_kb_is_413(client: TestClient) -> None:
    body = _oversized_event()
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    # A generator makes httpx send Transfer-Encoding: chunked, no Content-Length.
    response = client.post(PD_PATH, content=chunks,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert alert_count(client) == 0


def test_pagerduty_body_just_under_512_kb_is_accepted(client: TestClient) -> None:
    filler = "y" * (PD_LIMIT - 1024)
    event = {**pd_event(custom_details={"blob": filler}), "dedup_key": "just-under"}
    response = post(client, PD_PATH, event)
    assert response.status_code == 202, response.text
    [kept] = stored(client, "just-under")
    assert kept["details"]["custom_details"]["blob"] == filler


# --- values the columns or the number type cannot hold -----------------------


@pytest.mark.parametrize(("fields", "field"), [
    ({"fingerprint": "f" * 300}, "alerts[1].fingerprint"),
    ({"labels": {"alertname": "Long", "severity": "s" * 100}}, "alerts[1].labels.severity"),
    ({"labels": {"alertname": "Long", "service": "s" * 250}}, "alerts[1].labels.service"),
    ({"startsAt": "9999-12-31T23:59:59-10:00"}, "alerts[1].startsAt"),
    ({"startsAt": "0001-01-01T03:00:00+05:00"}, "alerts[1].startsAt"),
])
def test_alertmanager_values_too_big_to_store_are_refused_or_kept(
    client: TestClient, fields: dict[str, Any], field: str,
) -> None:
    good, odd = am_alert(), am_alert(**fields)
    response = post(client, AM_PATH, am_body(good, odd))

    assert response.status_code == 200, response.text  # never a 500 that drops `good`
    assert len(stored(client, good["fingerprint"])) == 1
    rejected = {r["path"] for r in response.json()["rejected"]}
    if rejected:
        assert any(path.startswith(field) for path in rejected), rejected
        return
    [kept] = stored(client, response.json()["alerts"][1]["dedup_key"])
    assert kept["labels"] == odd["labels"]


@pytest.mark.parametrize(("raw_value", "field"), [
    ("NaN", "payload.custom_details.ratio"),
    ("1e400", "payload.custom_details.ratio"),
    ("-Infinity", "payload.custom_details.ratio"),
])
def test_numbers_json_cannot_hold_are_refused_or_kept(
    client: TestClient, raw_value: str, field: str,
) -> None:
    event = {**pd_event(custom_details={"ratio": 0}), "dedup_key": f"num-{raw_value}"}
    raw = encode(event).replace(b'"ratio": 0', b'"ratio": ' + raw_value.encode())
    response = post(client, PD_PATH, raw)
    assert response.status_code in (202, 400), response.text
    if response.status_code == 400:
        assert field in problems(response) or "JSON" in problems(response)
        return
    [kept] = stored(client, event["dedup_key"])
    assert str(kept["details"]["custom_details"]["ratio"]) == str(float(raw_value))


@pytest.mark.parametrize("timestamp", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+05:00"])
def test_pagerduty_timestamp_out_of_range_is_refused(client: TestClient, timestamp: str) -> None:
    assert_refused(post(client, PD_PATH, pd_event(timestamp=timestamp)), "payload.timestamp")


def test_api_since_out_of_range_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/alerts", params={"since": "9999-12-31T23:59:59-10:00"},
                          headers=AUTH)
    assert_refused(response, "since")


# --- over a real socket -------------------------------------------------------


@pytest.mark.e2e
def test_chunked_oversized_body_over_the_wire_is_413_and_the_server_lives_on(
    tmp_path: Path,
) -> None:
    config_path = write_config(tmp_path, "http://127.0.0.1:9", [("primary", 0)])
    body = _oversized_event()
    chunks = (body[i:i + 16384] for i in range(0, len(body), 16384))
    with TocsinServer(config_path, f"sqlite:///{tmp_path / 'tocsin.db'}",
                      tmp_path / "logs") as server:
        response = httpx.post(server.url(PD_PATH), content=chunks, timeout=10,
                              headers={"Content-Type": "application/json"})
        assert response.status_code == 413, response.text
        assert "Content-Length" not in response.request.headers
        follow_up = httpx.post(server.url(PD_PATH), content=encode(pd_event()), timeout=10)
        assert follow_up.status_code == 202, follow_up.text
        assert httpx.get(server.url("/healthz"), timeout=5).status_code == 200
