"""An alert left out of an accepted batch is logged as a warning naming it and why."""

from __future__ import annotations

import logging

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
