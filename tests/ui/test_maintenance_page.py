"""The maintenance page: windows listed, the form that makes one, "end now" behind a confirm
page, and the alert page naming the window that holds it. On SQLite and PostgreSQL.

The fake clock starts Monday 2026-03-02 03:00 UTC; alice (no zone of her
own: the config's, UTC) logs in; carol reads in Asia/Bangkok (UTC+7).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ui.conftest import csrf_of, log_in, set_password
from tests.web.conftest import CONFIG, Web, close_web, make_web
from tocsin.alerts import maintenance
from tocsin.alerts.maintenance_store import StoredWindow
from tocsin.clock import FakeClock
from tocsin.db import transaction

FILE_WINDOW = """
maintenance:
  - name: network-change
    match: {rack: r7}
    start: 2026-03-02T02:00
    end: 2026-03-02T06:00
    reason: core switch swap
"""
FILE_LINE = (CONFIG + FILE_WINDOW).splitlines().index("  - name: network-change") + 1
PAGE = "/ui/maintenance"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def ui(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    config = CONFIG.replace("{id: carol, name: Carol,", "{id: carol, name: Carol, "
                                                        "timezone: Asia/Bangkok,")
    made = make_web(tmp_path, db_url, clock, config + FILE_WINDOW)
    set_password(made, "alice")
    set_password(made, "carol")
    yield made
    close_web(made)


def store(ui: Web, *, start: datetime, end: datetime, reason: str = "payment db upgrade",
          actor: str = "bob") -> int:
    with transaction(ui.runtime.sessions) as session:
        row = maintenance.create_window(
            session, services=["payment"], match={}, match_re={}, start=start, end=end,
            reason=reason, actor=actor, surface="api", now=ui.clock.now())
        return row.id


def end(ui: Web, window: int, *, delete: bool = False) -> None:
    change = maintenance.delete_window if delete else maintenance.end_window
    with transaction(ui.runtime.sessions) as session:
        change(session, window=window, actor="bob", surface="api", now=ui.clock.now())


def windows(ui: Web) -> list[StoredWindow]:
    with ui.runtime.sessions() as session:
        return list(session.scalars(select(StoredWindow).order_by(StoredWindow.id)))


def section(page: str, heading_id: str) -> str:
    """The section under a heading, its whitespace runs made single spaces."""
    return " ".join(page.split(f'id="{heading_id}"')[1].split("</section>")[0].split())


def row_of(page: str, key: str) -> str:
    return " ".join(page.split(f'<tr data-window="{key}">')[1].split("</tr>")[0].split())


def submit(ui: Web, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_of(ui.client.get(PAGE).text)
    form = {"csrf": token, "services": "", "match": "", "match_re": "", "start": "",
            "end": "", "duration": "", "reason": "", **fields}
    return ui.client.post(PAGE, data=form, follow_redirects=False)


def test_the_page_needs_a_login(ui: Web):
    response = ui.client.get(PAGE, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/maintenance"


def test_windows_are_listed_in_force_upcoming_and_recently_ended(ui: Web):
    old = store(ui, start=NOW - timedelta(days=1), end=NOW + timedelta(hours=1))
    ui.clock.set(NOW - timedelta(days=10))  # one that ended long ago, made back then
    ancient = store(ui, start=NOW - timedelta(days=10), end=NOW - timedelta(days=9))
    ui.clock.set(NOW)
    running = store(ui, start=NOW, end=NOW + timedelta(hours=2))
    upcoming = store(ui, start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=4),
                     reason="kernel patching")
    hidden = store(ui, start=NOW + timedelta(days=2), end=NOW + timedelta(days=3))
    end(ui, old)
    end(ui, hidden, delete=True)
    ui.fire()
    log_in(ui.client)

    page = ui.client.get(PAGE).text

    in_force, coming, ended = (section(page, f"{s}-heading")
                               for s in ("in-force", "upcoming", "ended"))
    assert f'data-window="{running}"' in in_force and 'data-window="config:network-change"' \
        in in_force
    assert row_of(page, str(running)).startswith(
        f"<td>#{running}</td> <td><code>service in (payment)</code></td>")
    assert "Mon 02 Mar 2026 03:00" in row_of(page, str(running))
    assert "Mon 02 Mar 2026 05:00" in row_of(page, str(running))
    assert "Bob (api)" in row_of(page, str(running))
    assert "<td>1</td>" in row_of(page, str(running))  # the alert fired above
    assert f"End maintenance window #{running} now" in row_of(page, str(running))
    config_row = row_of(page, "config:network-change")
    assert f"the config file (line {FILE_LINE})" in config_row
    assert "rack=r7" in config_row and "change it in the file" in config_row
    assert "End now" not in config_row
    assert f'data-window="{upcoming}"' in coming and "kernel patching" in coming
    assert f'data-window="{old}"' in ended and "ended early by Bob" in row_of(page, str(old))
    assert "End now" not in row_of(page, str(old))
    assert f'data-window="{ancient}"' not in page and f'data-window="{hidden}"' not in page
    assert "Start (UTC)" in page


def test_the_form_makes_a_window_as_the_viewer_with_an_audit_row(ui: Web):
    log_in(ui.client)

    response = submit(ui, services="payment, checkout", match="env=prod\n\n",
                      match_re="host = db-[0-9]+", end="2026-03-02T05:30",
                      reason="primary database upgrade")

    assert response.status_code == 303
    page = ui.client.get(response.headers["location"]).text
    [row] = windows(ui)
    assert f"Maintenance window #{row.id} made." in page
    assert (row.services, row.match, row.match_re) == (
        ["payment", "checkout"], {"env": "prod"}, {"host": "db-[0-9]+"})
    assert (row.start_at, row.end_at, row.reason) == (
        NOW, datetime(2026, 3, 2, 5, 30, tzinfo=UTC), "primary database upgrade")
    assert (row.created_by, row.surface) == ("alice", "ui")
    [entry] = [e for e in ui.audit() if e.object_type == "maintenance"]
    assert (entry.action, entry.actor, entry.surface, entry.object_id) == (
        "maintenance.create", "alice", "ui", str(row.id))
    assert entry.after["services"] == ["payment", "checkout"]
    assert "Alice (ui)" in row_of(page, str(row.id))


def test_the_form_reads_times_in_the_viewers_zone_and_takes_a_duration(ui: Web):
    log_in(ui.client, "carol")

    response = submit(ui, services="payment", start="2026-03-02T12:00", duration="1h30m",
                      reason="disk swap")

    assert response.status_code == 303
    [row] = windows(ui)
    assert (row.start_at, row.end_at) == (datetime(2026, 3, 2, 5, 0, tzinfo=UTC),
                                          datetime(2026, 3, 2, 6, 30, tzinfo=UTC))
    page = ui.client.get(PAGE).text
    assert "Start (Asia/Bangkok)" in page and "Mon 02 Mar 2026 12:00" in page
    assert "Mon 02 Mar 2026 13:30" in row_of(page, str(row.id))


@pytest.mark.parametrize(("fields", "told"), [
    ({"end": "2026-03-02T04:00", "start": "2026-03-02T05:00"}, "End: must be after start"),
    ({"start": "2026-03-02T01:00", "end": "2026-03-02T02:00"},
     "End: is not after now (2026-03-02T03:00:00Z)"),
    ({"services": "", "duration": "2h"},
     "Services: a maintenance window needs at least one matcher"),
    ({"duration": "2h", "match_re": "host=db-[0-9"},
     "Labels matching: host: "),
    ({"duration": "2h", "match": "env"}, "Labels equal to: line 1: write name=value"),
    ({"duration": "soon"}, "Duration: write minutes, hours or days"),
    ({"duration": "0"}, "Duration: must be a number of minutes above 0"),
    ({"duration": "2h", "end": "2026-03-02T05:00"}, "Duration: give end or duration_minutes"),
    ({"start": "tomorrow", "duration": "2h"}, "Start: "),
    ({"duration": "2h", "reason": "  "}, "Reason: must not be empty"),
    ({}, "End: is required (or give duration_minutes)"),
])
def test_a_wrong_form_names_the_field_and_stores_nothing(ui: Web, fields, told):
    log_in(ui.client)

    response = submit(ui, **{"services": "payment", "reason": "upgrade", **fields})

    assert response.status_code == 400
    problems = section(response.text, "new-heading").split('role="alert">')[1].split("</div>")[0]
    assert told in problems
    assert windows(ui) == []
    assert 'value="upgrade"' in response.text or fields.get("reason")  # what was typed stays


def test_every_problem_with_the_form_is_told_at_once_beside_its_field(ui: Web):
    log_in(ui.client)

    response = submit(ui, services="", match="env", start="2026-03-02T01:00",
                      end="2026-03-02T02:00", reason="upgrade")

    text = section(response.text, "new-heading")
    for told in ("Labels equal to: line 1: write name=value",
                 "Services: a maintenance window needs at least one matcher",
                 "End: is not after now"):
        assert text.count(told) == 2  # in the list on top, and under its field
    assert re.search(r'id="mw-end"[^>]*aria-invalid="true"', response.text)
    assert not re.search(r'id="mw-reason"[^>]*aria-invalid', response.text)


def test_changes_without_the_csrf_token_are_refused(ui: Web):
    window = store(ui, start=NOW, end=NOW + timedelta(hours=1))
    log_in(ui.client)

    for data in ({}, {"csrf": "forged"}):
        made = ui.client.post(PAGE, data={**data, "services": "payment", "duration": "1h",
                                          "reason": "x"})
        ended = ui.client.post(f"{PAGE}/{window}/end", data={**data, "confirmed": "yes"})
        assert (made.status_code, ended.status_code) == (403, 403)

    assert [(w.id, w.ended_at) for w in windows(ui)] == [(window, None)]


def test_end_now_asks_first_and_ends_nothing(ui: Web):
    window = store(ui, start=NOW, end=NOW + timedelta(hours=2))
    ui.fire()
    log_in(ui.client)
    token = csrf_of(ui.client.get(PAGE).text)

    asked = ui.client.post(f"{PAGE}/{window}/end", data={"csrf": token})

    assert asked.status_code == 200
    text = " ".join(asked.text.split())
    assert f"End maintenance window #{window}?" in text
    assert "holds 1 open alert." in text and "start paging at once" in text
    assert 'name="confirmed" value="yes"' in asked.text
    assert windows(ui)[0].ended_at is None


def test_confirming_ends_it_audited_and_the_held_alert_pages(ui: Web):
    window = store(ui, start=NOW, end=NOW + timedelta(hours=2))
    alert_id = ui.fire()
    assert ui.pages() == []
    ui.clock.advance(minutes=10)
    log_in(ui.client)
    token = csrf_of(ui.client.get(PAGE).text)

    done = ui.client.post(f"{PAGE}/{window}/end", data={"csrf": token, "confirmed": "yes"},
                          follow_redirects=False)

    assert done.status_code == 303
    page = ui.client.get(done.headers["location"]).text
    assert f"Maintenance window #{window} ended." in page
    assert f'data-window="{window}"' in section(page, "ended-heading")
    ended = windows(ui)[0]
    assert (ended.ended_at, ended.ended_by) == (ui.clock.now(), "alice")
    entry = [e for e in ui.audit() if e.object_type == "maintenance"][-1]
    assert (entry.action, entry.actor, entry.surface) == ("maintenance.end", "alice", "ui")
    assert entry.before["status"] == "in_force" and entry.after["status"] == "ended"
    ui.runtime.engine.run_due()
    assert [p.alert_id for p in ui.pages()] == [alert_id]
    assert "Held by" not in ui.client.get(f"/ui/alerts/{alert_id}").text


def test_ending_an_upcoming_window_cancels_it(ui: Web):
    window = store(ui, start=NOW + timedelta(hours=5), end=NOW + timedelta(hours=6))
    log_in(ui.client)
    token = csrf_of(ui.client.get(PAGE).text)

    asked = ui.client.post(f"{PAGE}/{window}/end", data={"csrf": token})
    ui.client.post(f"{PAGE}/{window}/end", data={"csrf": token, "confirmed": "yes"})

    assert "ending it now cancels it" in " ".join(asked.text.split())
    page = ui.client.get(PAGE).text
    assert "(cancelled)" in row_of(page, str(window))
    assert f'data-window="{window}"' in section(page, "ended-heading")


def test_a_window_from_the_file_or_one_over_cannot_be_ended_here(ui: Web):
    over = store(ui, start=NOW, end=NOW + timedelta(hours=1))
    ui.clock.advance(minutes=90)
    log_in(ui.client)
    token = csrf_of(ui.client.get(PAGE).text)

    from_file = ui.client.post(f"{PAGE}/config:network-change/end",
                               data={"csrf": token, "confirmed": "yes"})
    finished = ui.client.post(f"{PAGE}/{over}/end", data={"csrf": token})
    unknown = ui.client.post(f"{PAGE}/999/end", data={"csrf": token})

    assert from_file.status_code == 409 and "change or remove it there" in from_file.text
    assert finished.status_code == 409 and "there is nothing to end" in finished.text
    assert unknown.status_code == 404
    assert windows(ui)[0].ended_at is None


def test_the_alert_page_names_the_window_holding_it_and_until_when(ui: Web):
    window = store(ui, start=NOW, end=NOW + timedelta(hours=2), reason="payment db upgrade")
    alert_id = ui.fire()
    log_in(ui.client, "carol")

    page = " ".join(ui.client.get(f"/ui/alerts/{alert_id}").text.split())

    assert (f"Held by maintenance window #{window} (payment db upgrade) until "
            "Mon 02 Mar 2026 12:00 (Asia/Bangkok): nobody is paged until then.") in page


def test_the_navigation_links_both_pages(ui: Web):
    log_in(ui.client)

    page = ui.client.get(PAGE).text

    nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert '<a href="/ui/maintenance" aria-current="page">Maintenance</a>' in nav
    assert '<a href="/ui/heartbeats">Heartbeats</a>' in nav
