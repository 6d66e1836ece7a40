"""A storm bundle's link and API call acknowledge every alert it lists, each audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import (
    AM_KEY,
    CONFIG,
    PUBLIC_URL,
    READ_TOKEN,
    WRITE_TOKEN,
    Web,
    alertmanager_body,
    close_web,
    link_path,
    make_web,
)
from tocsin.clock import FakeClock
from tocsin.logs import REDACTOR
from tocsin.notify.bundles import BundlePage


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG + "storm: {alerts_per_minute: 3}\n")
    yield made
    close_web(made)


def storm(web: Web, count: int) -> list[int]:
    """One Alertmanager webhook of `count` firing alerts; the engine runs after it."""
    alerts = [alertmanager_body(f"fp-{n}")["alerts"][0] for n in range(count)]
    body = {"version": "4", "status": "firing", "receiver": "tocsin", "alerts": alerts}
    response = web.client.post(f"/integrations/{AM_KEY}/alertmanager", json=body)
    assert response.status_code == 200, response.text
    web.runtime.engine.run_due()
    return sorted(alert["id"] for alert in response.json()["alerts"])


def alices_bundle(web: Web) -> BundlePage:
    [page] = [page for page in web.channels["webhook"].bundles if page.user_id == "alice"]
    return page


def bundle_link(page: BundlePage) -> str:
    assert page.ack_url is not None and page.ack_url.startswith(PUBLIC_URL + "/b/")
    return page.ack_url.removeprefix(PUBLIC_URL)


def statuses(web: Web, ids: list[int]) -> list[str]:
    return [web.alert(alert_id)["status"] for alert_id in ids]


def test_a_storm_sends_alice_one_bundle_listing_every_alert(web: Web):
    ids = storm(web, 6)

    assert web.pages() == []
    page = alices_bundle(web)
    assert page.alert_ids == ids
    assert [p.alert_ids for p in web.channels["console"].bundles] == [ids]
    shown = web.call("GET", f"/api/v1/bundles/{page.bundle_id}", READ_TOKEN).json()
    assert (shown["user"], shown["channel"], shown["status"]) == ("alice", "webhook", "sent")
    assert [alert["id"] for alert in shown["alerts"]] == ids
    assert web.alert(ids[0])["notifications"][-1]["detail"] == (
        f"sent in storm bundle #{page.bundle_id}")


def test_opening_the_bundle_link_lists_the_alerts_and_changes_nothing(web: Web):
    ids = storm(web, 6)
    link = bundle_link(alices_bundle(web))

    response = web.client.get(link)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "6 of the 6 alerts in this bundle are still open" in response.text
    assert "Acknowledge all 6" in response.text and "Acting as alice" in response.text
    assert statuses(web, ids) == ["triggered"] * 6
    assert web.audit() == []


def test_the_bundle_link_acknowledges_every_alert_it_lists(web: Web):
    ids = storm(web, 6)
    page = alices_bundle(web)

    response = web.client.post(bundle_link(page), data={"action": "acknowledge"})

    assert response.status_code == 200, response.text
    assert "Acknowledged 6 alerts." in response.text
    assert statuses(web, ids) == ["acknowledged"] * 6
    audit = web.audit()
    assert sorted(int(row.object_id) for row in audit) == ids
    assert {(row.actor, row.surface, row.action) for row in audit} == {
        ("alice", "link", "alert.acknowledge")}
    assert all(row.after == {"status": "acknowledged", "bundle_id": page.bundle_id}
               for row in audit)
    ack = next(e for e in web.alert(ids[3])["timeline"] if e["kind"] == "acknowledged")
    assert ack["message"] == f"acknowledged by alice via link with storm bundle #{page.bundle_id}"
    assert (ack["actor"], ack["surface"]) == ("alice", "link")

    web.clock.advance(minutes=10)
    web.runtime.engine.run_due()
    assert [p.user_id for p in web.pages()] == [], "the escalation stopped for every alert"


def test_alerts_acknowledged_or_resolved_since_are_left_as_they_are(web: Web):
    ids = storm(web, 6)
    page = alices_bundle(web)
    web.call("POST", f"/api/v1/alerts/{ids[0]}/ack", WRITE_TOKEN)
    web.call("POST", f"/api/v1/alerts/{ids[1]}/resolve", WRITE_TOKEN)

    response = web.client.post(bundle_link(page), data={"action": "acknowledge"})

    assert "Acknowledged 4 alerts. 1 had been acknowledged already. 1 were resolved" in (
        response.text)
    assert statuses(web, ids) == ["acknowledged", "resolved"] + ["acknowledged"] * 4
    assert web.alert(ids[0])["acknowledged_by"] == "bob"  # the first acknowledgement stands


def test_alerts_paged_before_the_storm_are_not_in_the_bundle(web: Web):
    first = web.fire("fp-early")
    ids = storm(web, 5)
    page = alices_bundle(web)

    web.client.post(bundle_link(page), data={"action": "acknowledge"})

    assert first not in page.alert_ids
    assert web.alert(first)["status"] == "triggered"
    assert statuses(web, ids) == ["acknowledged"] * 5


def test_the_api_acknowledges_a_bundle_with_a_write_token(web: Web):
    ids = storm(web, 4)
    bundle_id = alices_bundle(web).bundle_id
    path = f"/api/v1/bundles/{bundle_id}/acknowledge"

    assert web.call("POST", path).status_code == 401
    assert web.call("POST", path, READ_TOKEN).status_code == 403
    assert statuses(web, ids) == ["triggered"] * 4
    response = web.call("POST", path, WRITE_TOKEN)

    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body == {"bundle_id": bundle_id, "acknowledged": ids, "already_acknowledged": [],
                    "resolved": []}
    assert {(row.actor, row.surface) for row in web.audit()} == {("bob", "api")}
    assert web.call("POST", path, WRITE_TOKEN).json()["already_acknowledged"] == ids


def test_an_unknown_bundle_is_404(web: Web):
    response = web.call("POST", "/api/v1/bundles/999/acknowledge", WRITE_TOKEN)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_alert_link_is_no_bundle_link_and_a_tampered_one_is_refused(web: Web):
    alert_id = web.fire("fp-early")
    [alert_page] = web.pages()
    storm(web, 4)
    token = link_path(alert_page).removeprefix("/a/")

    assert web.client.get(f"/b/{token}").status_code == 403
    assert web.client.post(f"/b/{token}", data={"action": "acknowledge"}).status_code == 403
    tampered = bundle_link(alices_bundle(web))[:-2] + "xx"
    assert web.client.post(tampered, data={"action": "acknowledge"}).status_code == 403
    assert web.alert(alert_id)["status"] == "triggered"


def test_a_bundle_link_is_masked_in_every_log_line(web: Web):
    storm(web, 4)
    link = bundle_link(alices_bundle(web))

    assert link.startswith("/b/")
    assert REDACTOR.redact(f'"GET {link} HTTP/1.1" 200') == '"GET /b/*** HTTP/1.1" 200'
