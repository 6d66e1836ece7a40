"""An alert left out of an accepted batch is logged as a warning naming it and why, and so
is every refused integration request: by the integration's name, never its key."""

from __future__ import annotations

import logging

import pytest

from tests.web.conftest import AM_KEY, Web, alertmanager_body
from tocsin.logs import record_fields


def test_a_rejected_alert_in_a_batch_is_a_warning_with_its_path(web: Web, caplog) -> None:
    body = alertmanager_body("fp-good")
    broken = dict(body["alerts"][0], fingerprint="fp-bad", startsAt="garbage")
    body["alerts"].append(broken)

    with caplog.at_level(logging.WARNING, logger="tocsin.web.integrations"):
        response = web.client.post(f"/integrations/{AM_KEY}/alertmanager", json=body)

    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    warnings = [r for r in caplog.records if r.getMessage() == "integration.alert_rejected"]
    assert len(warnings) == 1
    assert record_fields(warnings[0])["path"] == "alerts[1].startsAt"
    assert AM_KEY not in caplog.text


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "integration.refused"]


def test_a_one_alert_webhook_refused_for_a_bad_field_is_a_warning(web: Web, caplog) -> None:
    # Product bug: the same alert inside a batch was logged; alone it left no trace.
    body = alertmanager_body("fp-yesterday")
    body["alerts"][0]["startsAt"] = "yesterday"

    with caplog.at_level(logging.WARNING, logger="tocsin.web.integrations"):
        response = web.client.post(f"/integrations/{AM_KEY}/alertmanager", json=body)

    assert response.status_code == 400
    [warning] = _refusals(caplog)
    assert warning.levelno == logging.WARNING
    fields = record_fields(warning)
    assert (fields["endpoint"], fields["integration"], fields["status"]) == (
        "alertmanager", "prometheus", 400)
    assert str(fields["problems"]).startswith("alerts[0].startsAt: is not an RFC 3339")
    assert AM_KEY not in caplog.text


@pytest.mark.parametrize("path", ["/integrations/am-key-typo-0000/alertmanager",
                                  "/integrations/am-key-typo-0000/generic"])
def test_an_unknown_integration_key_is_a_warning_without_the_key(
        web: Web, caplog, path: str) -> None:
    with caplog.at_level(logging.WARNING, logger="tocsin.web.integrations"):
        response = web.client.post(path, json=alertmanager_body("fp-any"))

    assert response.status_code == 401
    [warning] = _refusals(caplog)
    fields = record_fields(warning)
    assert fields["status"] == 401
    assert "integration" not in fields
    assert fields["reason"] == f"unknown key for an integration of type {path.split('/')[-1]}"
    assert "am-key-typo" not in caplog.text


def test_a_body_that_is_not_json_is_a_warning_naming_the_integration(web: Web, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="tocsin.web.integrations"):
        response = web.client.post(f"/integrations/{AM_KEY}/alertmanager", content=b"{bad",
                                   headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    [warning] = _refusals(caplog)
    fields = record_fields(warning)
    assert fields["integration"] == "prometheus"
    assert str(fields["reason"]).startswith("body is not valid JSON")


def test_an_unknown_pagerduty_routing_key_is_a_warning_without_the_key(web: Web, caplog) -> None:
    body = {"routing_key": "pd-key-typo-1234", "event_action": "trigger",
            "payload": {"summary": "Disk full", "source": "db1", "severity": "error"}}

    with caplog.at_level(logging.WARNING, logger="tocsin.web.integrations"):
        response = web.client.post("/v2/enqueue", json=body)

    assert response.status_code == 400
    [warning] = _refusals(caplog)
    fields = record_fields(warning)
    assert (fields["endpoint"], fields["status"]) == ("pagerduty", 400)
    assert fields["problems"] == "routing_key: no pagerduty integration has this key"
    assert "pd-key-typo" not in caplog.text
