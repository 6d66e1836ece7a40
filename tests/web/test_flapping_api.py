"""A flapping key through the Alertmanager webhook, as the API shows it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.web.conftest import AM_KEY, READ_TOKEN, Web


def _body(fingerprint: str, status: str, starts: str, ends: str) -> dict[str, Any]:
    alert = {"status": status, "fingerprint": fingerprint, "startsAt": starts, "endsAt": ends,
             "labels": {"alertname": "DiskFull", "severity": "critical", "service": "payment"},
             "annotations": {"summary": "Disk full on db-1"}}
    return {"version": "4", "status": status, "receiver": "tocsin", "alerts": [alert]}


def flip_by_webhook(web: Web, fingerprint: str, *, changes: int = 6) -> list[int]:
    """Fire, then resolve and fire again once a minute, `changes` times; the alert ids."""
    ids: list[int] = []
    for minute in range(changes + 1):
        now = web.clock.now()
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        if minute % 2 == 0:
            body = _body(fingerprint, "firing", stamp, "0001-01-01T00:00:00Z")
        else:
            started = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = _body(fingerprint, "resolved", started, stamp)
        response = web.client.post(f"/integrations/{AM_KEY}/alertmanager", json=body)
        assert response.status_code == 200, response.text
        found = response.json()["alerts"][0]["id"]
        if found not in ids:
            ids.append(found)
        web.runtime.engine.run_due()
        web.clock.advance(minutes=1)
    return ids


def test_the_api_shows_the_flag_and_the_timeline_says_why(web: Web):
    ids = flip_by_webhook(web, "fp-disk")

    detail = web.alert(ids[-1])
    listed = web.call("GET", "/api/v1/alerts?dedup_key=fp-disk", READ_TOKEN).json()["alerts"]

    assert detail["flapping"] is True
    flapping = [e for e in detail["timeline"] if e["kind"] == "flapping"]
    assert [e["message"] for e in flapping] == [
        "flapping: 6 changes in 30 minutes; pages at most once per 30 minutes"]
    assert flapping[0]["data"] == {"changes": 6, "minutes": 30}
    assert "page_held" in web.kinds(ids[-1])
    assert [(a["id"], a["flapping"]) for a in listed] == [
        (ids[3], True), (ids[2], False), (ids[1], False), (ids[0], False)]
    # The fires at minutes 0, 2 and 4 paged alice; the one at 6 waits for the window.
    assert len(web.pages()) == 3
