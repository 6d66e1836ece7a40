"""A flapping alert is marked in the UI's list and on its page, with no inline script."""

from __future__ import annotations

from tests.ui.conftest import log_in
from tests.web.conftest import Web
from tests.web.test_flapping_api import flip_by_webhook

BADGE = '<span class="badge flapping"'


def _row(page: str, alert_id: int) -> str:
    return page.split(f'<tr data-alert="{alert_id}">')[1].split("</tr>")[0]


def test_the_list_and_the_alert_page_mark_a_flapping_alert(alerts_ui: Web):
    ids = flip_by_webhook(alerts_ui, "fp-flap")
    log_in(alerts_ui.client)

    listed = alerts_ui.client.get("/ui/alerts?status=all").text
    rows = alerts_ui.client.get("/ui/alerts/rows?status=all").text
    page = alerts_ui.client.get(f"/ui/alerts/{ids[-1]}")
    calm = alerts_ui.client.get(f"/ui/alerts/{ids[0]}").text

    assert BADGE in _row(listed, ids[-1]) and ">flapping</span>" in _row(listed, ids[-1])
    assert BADGE in _row(rows, ids[-1])
    assert BADGE not in _row(listed, ids[0])
    assert BADGE in page.text and BADGE not in calm
    assert 'data-kind="flapping"' in page.text and 'data-kind="page_held"' in page.text
    assert "<script>" not in page.text and "<script>" not in listed
    assert "script-src 'self';" in page.headers["content-security-policy"]
