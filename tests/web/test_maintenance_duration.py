"""A maintenance window made with a duration instead of an end (the UI form's "2h").

The fake clock starts Monday 2026-03-02 03:00 UTC. Token: write (bob).
"""

from __future__ import annotations

import pytest

from tests.web.conftest import WRITE_TOKEN, Web

MAINTENANCE = "/api/v1/maintenance"


def _post(web: Web, **body):  # type: ignore[no-untyped-def]
    return web.call("POST", MAINTENANCE, WRITE_TOKEN,
                    json={"services": ["payment"], "reason": "disk swap", **body})


def test_a_duration_ends_the_window_that_long_after_its_start(web: Web):
    now = _post(web, duration_minutes=90)
    later = _post(web, start="2026-03-02T06:00", duration_minutes=30.5)

    assert now.status_code == 201, now.text
    assert (now.json()["start"], now.json()["end"]) == (
        "2026-03-02T03:00:00Z", "2026-03-02T04:30:00Z")
    assert (later.json()["start"], later.json()["end"]) == (
        "2026-03-02T06:00:00Z", "2026-03-02T06:30:30Z")


@pytest.mark.parametrize(("body", "message"), [
    ({"end": "2026-03-02T05:00Z", "duration_minutes": 60}, "give end or duration_minutes"),
    ({"duration_minutes": 0}, "must be a number of minutes above 0"),
    ({"duration_minutes": "2h"}, "must be a number of minutes above 0"),
    ({"duration_minutes": True}, "must be a number of minutes above 0"),
    ({"duration_minutes": 1e300}, "is too long"),
])
def test_a_wrong_duration_is_400_naming_it(web: Web, body, message):
    response = _post(web, **body)

    assert response.status_code == 400
    [field] = response.json()["error"]["fields"]
    assert field["path"] == "duration_minutes" and message in field["message"]


def test_a_duration_past_366_days_is_refused_on_the_end(web: Web):
    response = _post(web, duration_minutes=367 * 1440)

    assert response.status_code == 400
    assert [f["path"] for f in response.json()["error"]["fields"]] == ["end"]


def test_neither_end_nor_duration_is_400_naming_end(web: Web):
    response = _post(web)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == [
        {"path": "end", "message": "is required (or give duration_minutes)"}]
