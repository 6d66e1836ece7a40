"""Snooze minutes that are not a number of minutes: refused, naming the field."""

from __future__ import annotations

import pytest

from tests.web.conftest import WRITE_TOKEN, Web


@pytest.mark.parametrize("minutes", [True, False])
def test_a_boolean_is_not_a_number_of_minutes(web: Web, minutes: bool):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/snooze", WRITE_TOKEN,
                        json={"minutes": minutes})

    assert response.status_code == 400
    [field] = response.json()["error"]["fields"]
    assert field["path"] == "body.minutes"
    assert "give a number of minutes, e.g. 30, not true or false" in field["message"]
    assert web.alert(alert_id)["status"] == "triggered"
    assert web.audit() == []


def test_a_number_of_minutes_still_snoozes(web: Web):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/snooze", WRITE_TOKEN,
                        json={"minutes": 1})

    assert response.status_code == 200, response.text
    assert web.alert(alert_id)["status"] == "acknowledged"
