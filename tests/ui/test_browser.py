"""The UI in a real browser: Debian's chromium, driven by Playwright, against `tocsin serve`.

The server runs on the system clock, so the config is written around today:
a weekly rotation whose first shift (alice's) begins at 00:00 UTC today,
and an office-hours schedule with a gap every night.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.server import TocsinServer
from tests.ui.browsing import (
    PASSWORD,
    expect,
    launch,
    new_context,
    serve_with_alice,
    tocsin,
    wait_for_url_ending,
)

pytestmark = pytest.mark.e2e

SCREENSHOT = Path("/tmp/ui-schedule.png")

def _config(today: datetime) -> str:
    return textwrap.dedent(f"""
        timezone: UTC
        users:
          - {{id: alice, name: Alice Archer, timezone: Asia/Bangkok}}
          - {{id: bob, name: Bob Baker}}
          - {{id: carol, name: Carol Chen}}
        schedules:
          - name: primary
            rotation: weekly
            start_day: {today.strftime("%A").lower()}
            start_time: "00:00"
            start_date: {today:%Y-%m-%d}
            participants: [alice, bob]
          - name: office
            timezone: Europe/Berlin
            rotation: daily
            start_time: "09:00"
            participants: [bob, carol]
            restrictions:
              - {{from: "09:00", to: "17:00"}}
        """)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TocsinServer]:
    folder = tmp_path_factory.mktemp("ui-browser")
    yield from serve_with_alice(folder, _config(datetime.now(UTC)), password_by_cli=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    context = new_context(browser, served)
    opened = context.new_page()
    yield opened
    context.close()


def _log_in(page, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto("/ui/")
    assert "/ui/login" in page.url
    page.get_by_label("User id or e-mail").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_login_with_a_password_set_by_the_cli(page) -> None:  # type: ignore[no-untyped-def]
    _log_in(page)
    wait_for_url_ending(page, "/ui/")
    expect(page.get_by_role("heading", name="On call now")).to_be_visible()


def test_a_wrong_password_is_refused(page) -> None:  # type: ignore[no-untyped-def]
    _log_in(page, "wrong password")
    assert "/ui/login" in page.url
    assert page.get_by_role("alert").inner_text() == "Wrong user or password."


def test_home_shows_who_the_rotation_puts_on_call(  # type: ignore[no-untyped-def]
    page, served,
) -> None:
    _log_in(page)
    row = page.locator("tr", has=page.get_by_role("link", name="primary"))
    assert "Alice Archer" in row.inner_text()
    told = json.loads(tocsin("oncall", "primary", "--json", "--config",
                              str(served.config_path), "--db", served.db_url).stdout)
    assert [shift["user"] for shift in told["oncall"]] == ["alice"]
    # Alice reads handoffs in her own zone (Bangkok, UTC+7) and the schedule's (UTC).
    assert "07:00" in row.inner_text() and "(UTC)" in row.inner_text()


def test_schedule_page_shows_two_weeks_with_gaps(page) -> None:  # type: ignore[no-untyped-def]
    _log_in(page)
    page.goto("/ui/schedules/office")
    assert page.locator(".timeline .day[data-day]").count() == 14
    assert page.locator(".bar.gap").count() >= 14
    assert page.locator(".now").count() == 1
    assert page.get_by_role("cell", name="Gap: nobody on call").count() >= 14


def test_the_override_form_adds_an_override_the_cli_reports(
        page, served) -> None:  # type: ignore[no-untyped-def]
    _log_in(page)
    page.goto("/ui/schedules/primary")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    page.get_by_label("Who covers").select_option("carol")
    page.get_by_label("Kind").select_option("replace")
    page.get_by_label("Replaces (for “replace” only)").select_option("alice")
    page.get_by_label("From (UTC)").fill(f"{tomorrow}T10:00")
    page.get_by_label("To (UTC)").fill(f"{tomorrow}T14:00")
    page.get_by_role("button", name="Add override").click()
    assert page.get_by_role("status").inner_text().startswith("Override #")
    bar = page.locator(".bar.override")
    assert bar.count() == 1 and "Carol Chen" in bar.inner_text()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    told = json.loads(tocsin("oncall", "primary", "--json", "--at", f"{tomorrow}T11:00",
                              "--config", str(served.config_path), "--db", served.db_url).stdout)
    assert [(s["user"], s["source"]) for s in told["oncall"]] == [("carol", "override:1")]


def test_home_warns_of_coverage_gaps_with_a_link_to_the_schedule(
        page) -> None:  # type: ignore[no-untyped-def]
    _log_in(page)
    section = page.locator("section.coverage")
    office = section.locator("li[data-schedule=office]")
    assert office.count() == 1 and "(Europe/Berlin)" in office.inner_text()
    assert " to " in office.locator("li").first.inner_text()
    assert section.locator("li[data-schedule=primary]").count() == 0
    office.get_by_role("link", name="office", exact=True).click()
    wait_for_url_ending(page, "/ui/schedules/office")


def test_an_override_is_deleted_after_a_confirm_page_and_the_cli_lists_it(
        page, served) -> None:  # type: ignore[no-untyped-def]
    _log_in(page)
    page.goto("/ui/schedules/primary")
    later = (datetime.now(UTC) + timedelta(days=2)).date()
    page.get_by_label("Who covers").select_option("bob")
    page.get_by_label("Kind").select_option("add")
    page.get_by_label("From (UTC)").fill(f"{later}T10:00")
    page.get_by_label("To (UTC)").fill(f"{later}T12:00")
    page.get_by_role("button", name="Add override").click()
    made = page.get_by_role("status").inner_text().split()[1]  # "#N"
    page.get_by_role("button", name=f"Delete override {made}").click()
    expect(page.get_by_role("heading", name=f"Delete override {made}?")).to_be_visible()
    page.get_by_role("button", name=f"Delete override {made}").click()
    assert page.get_by_role("status").inner_text() == f"Override {made} deleted."
    listed = json.loads(tocsin("override", "list", "primary", "--all", "--json", "--config",
                                str(served.config_path), "--db", served.db_url).stdout)
    found = {f"#{o['id']}": o["deleted_by"] for o in listed["overrides"]}
    assert found[made] == "alice"


def test_logout(page) -> None:  # type: ignore[no-untyped-def]
    _log_in(page)
    page.get_by_role("button", name="Log out").click()
    assert "/ui/login" in page.url
    page.goto("/ui/")
    assert "/ui/login" in page.url
