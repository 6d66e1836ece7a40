"""The reliability dashboard at /ui/reliability, on both databases.

Rows come from tests/ui/dashboarding.py: four weeks from Monday 2026-02-02
(UTC), read as February's four weeks. The fake clock reads Monday
2026-03-02 03:00 UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.ui.conftest import log_in
from tests.ui.dashboarding import SECRET_TITLE, seed
from tests.web.conftest import Web
from tocsin.db import transaction

WINDOW = "/ui/reliability?since=2026-02-02&until=2026-03-02"


def _seed(ui: Web, monday: datetime = datetime(2026, 2, 2, tzinfo=UTC)) -> None:
    with transaction(ui.runtime.sessions) as session:
        seed(session, monday)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def tile(page: str, key: str) -> str:
    return _text(page.split(f'data-tile="{key}">')[1].split("</li>")[0])


def row(page: str, marker: str) -> str:
    return _text(page.split(marker)[1].split("</tr>")[0])


def chart_rows(page: str, chart: str) -> list[str]:
    section = page.split(f'data-chart="{chart}"')[1].split("</section>")[0]
    body = section.split('<table class="chart-table">')[1].split("</table>")[0]
    return [_text(part) for part in body.split("<tr>")[2:]]


def test_the_page_needs_a_login(ui: Web):
    response = ui.client.get("/ui/reliability", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/reliability"


def test_the_tiles_give_the_periods_figures(ui: Web):
    _seed(ui)
    log_in(ui.client)

    page = ui.client.get(WINDOW).text

    assert tile(page, "incidents").startswith("Incidents declared 4 1.0 a week; SEV1 2, SEV2 1")
    assert tile(page, "mttr") == ("MTTR (mean time to resolve) 36m "
                                  "median 30m, p90 1h 00m, 3 counted")
    assert tile(page, "mtta") == ("MTTA (mean time to acknowledge) 12m "
                                  "median 5m, p90 20m, 2 acknowledged")
    assert tile(page, "escalation") == "Escalation rate 20.0% 1 of 5 paged alerts"
    assert tile(page, "transient") == "Transient alerts 40.0% 2 of 5 alerts"
    assert tile(page, "not-actionable") == "Not actionable 20.0% 1 of 5 alerts"
    assert tile(page, "postmortems") == "Post-mortems written 1 of 3 0 in progress"
    assert tile(page, "actions") == "Action items done 1 of 3 0 overdue"
    assert tile(page, "survey") == "On-call survey average 3.0 / 5 2 answers"
    assert row(page, '<tr data-severity="SEV1">') == "SEV1 30m 40m 20m 1h 00m 2 1 ▲ over target"
    assert row(page, '<tr data-severity="SEV2">') == "SEV2 1h 00m 30m 30m 30m 1 1 within target"
    assert "From <strong>Mon 02 Feb 2026 00:00</strong>" in page


def test_the_charts_tables_give_the_numbers_per_week_and_person(ui: Web):
    _seed(ui)
    log_in(ui.client)

    page = ui.client.get(WINDOW).text

    assert chart_rows(page, "chart-incidents") == [
        "Mon 02 Feb 2026 1 0 0 1", "Mon 09 Feb 2026 1 1 0 2",
        "Mon 16 Feb 2026 0 0 0 0", "Mon 23 Feb 2026 0 0 1 1"]
    assert chart_rows(page, "chart-mttr") == [
        "Mon 02 Feb 2026 20m (1)", "Mon 09 Feb 2026 1h 00m (1) 30m (1)",
        "Mon 16 Feb 2026", "Mon 23 Feb 2026"]
    assert chart_rows(page, "chart-people") == ["Alice 1 1 1 3", "Bob 0 1 0 1"]
    assert page.count('role="img"') == 3
    for label in ("MTTR by severity per week", "Incidents per week", "Interruptions per person"):
        assert f'aria-label="{label}"' in page


def test_the_range_presets_choose_the_period(ui: Web):
    _seed(ui, datetime(2026, 1, 5, tzinfo=UTC))  # the last row is on 28 January
    log_in(ui.client)

    default = ui.client.get("/ui/reliability").text
    last_month = ui.client.get("/ui/reliability?days=30").text

    assert tile(default, "incidents").startswith("Incidents declared 4 ")
    assert '<option value="90" selected>' in default
    assert tile(last_month, "incidents").startswith("Incidents declared 0 ")
    assert '<option value="30" selected>' in last_month


def test_an_empty_database_says_no_data(ui: Web):
    log_in(ui.client)

    response = ui.client.get("/ui/reliability")

    assert response.status_code == 200
    page = response.text
    assert tile(page, "mtta") == "MTTA (mean time to acknowledge) no data"
    assert tile(page, "escalation").startswith("Escalation rate no data")
    assert page.count("No data for this period.") == 3
    assert "<svg" not in page
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_private_incidents_title_is_never_shown(ui: Web):
    _seed(ui)
    log_in(ui.client)

    page = ui.client.get(WINDOW).text

    assert SECRET_TITLE not in page
    assert "Checkout down" not in page  # no title at all: the page shows figures


def test_a_bad_range_names_the_field(ui: Web):
    log_in(ui.client)

    for query, field in (("days=7", "days"), ("since=yesterday", "since"),
                         ("since=2026-03-01&until=2026-02-01", "until")):
        response = ui.client.get(f"/ui/reliability?{query}")

        assert response.status_code == 400, query
        assert f"{field}: " in _text(response.text), query


def test_a_range_before_the_calendar_allows_answers_a_page_not_json(ui: Web):
    log_in(ui.client)

    response = ui.client.get("/ui/reliability?since=0001-01-01")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "since: must be on or after" in _text(response.text)


def test_a_period_from_mid_week_marks_its_first_week_as_part(ui: Web):
    _seed(ui)
    log_in(ui.client)

    # From Tuesday: the first week has six days, still only part of a week.
    page = ui.client.get("/ui/reliability?since=2026-02-03&until=2026-03-02").text

    assert chart_rows(page, "chart-incidents")[0] == "Tue 03 Feb 2026 (part) 1 0 0 1"
    assert chart_rows(page, "chart-incidents")[1].startswith("Mon 09 Feb 2026 1")
