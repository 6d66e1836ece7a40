"""An incident run from the web UI in a real browser: Debian's chromium, driven by
Playwright, on `tocsin serve` with its real clock and engine.

Alice declares from the form, makes Bob the Scribe, adds a note, moves the
incident to resolved, and reads every step on its timeline and the clocks
in the header; the CLI reads the same timeline from the database.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import TocsinServer
from tests.ui.browsing import (
    PASSWORD,
    launch,
    serve_with_alice,
    tocsin,
    wait_for_url_ending,
    watched_page,
)

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path("/tmp")
CONFIG = """
    timezone: Europe/Berlin
    users:
      - {id: alice, name: Alice Archer}
      - {id: bob, name: Bob Baker}
    services:
      - {name: checkout, escalation_policy: web}
    escalation_policies:
      - name: web
        steps:
          - {targets: [alice], timeout_minutes: 30}
    routes:
      - {notify: web}
    """


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TocsinServer]:
    folder = tmp_path_factory.mktemp("ui-incidents-browser")
    yield from serve_with_alice(folder, textwrap.dedent(CONFIG))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    # The form with a wrong time is answered 400 on purpose.
    yield from watched_page(browser, served, expected_errors=("status of 400 (Bad Request)",))


def _log_in(page, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    page.get_by_label("User id or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _declare(page, title: str) -> str:  # type: ignore[no-untyped-def]
    """Declare with the form; the new incident's key."""
    page.get_by_label("Title").fill(title)
    page.get_by_label("SEV2").check()
    page.get_by_label("checkout").check()
    page.get_by_role("button", name="Declare incident").click()
    wait_for_url_ending(page, "?done=declared")
    return str(page.url.split("/ui/incidents/")[1].split("?")[0])


def test_declare_assign_note_and_resolve_from_the_browser(  # type: ignore[no-untyped-def]
        page, served) -> None:
    _log_in(page, "/ui/incidents/new")
    key = _declare(page, "Checkout returns 500 errors")

    assert page.get_by_role("status").inner_text() == "Incident declared."
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents")\
        .get_attribute("aria-current") == "page"

    page.get_by_label("Role", exact=True).select_option("Scribe")
    page.get_by_label("Person", exact=True).select_option("bob")
    page.get_by_role("button", name="Assign role").click()
    assert page.get_by_role("status").inner_text().startswith("Bob Baker is now Scribe: ")
    assert "Bob Baker" in page.locator('tr[data-role="Scribe"]').inner_text()

    page.get_by_label("Note", exact=True).fill("Rolled back deploy 4411")
    page.get_by_role("button", name="Add note").click()
    assert page.get_by_role("status").inner_text() == "Note added to the timeline."

    page.locator("#status-status").select_option("resolved")
    page.get_by_role("button", name="Save status").click()
    assert page.get_by_role("status").inner_text() == "Status saved."

    # SEV2 requires a post-mortem: the engine drafts it after the resolve, maybe already.
    kinds = page.locator("tr[data-kind]:not([data-kind='postmortem'])").evaluate_all(
        "rows => rows.map(row => row.dataset.kind)")
    # The resolve stopped the page nobody answered.
    assert kinds == ["declared", "role", "paged", "role", "note", "status", "pages_resolved"]
    assert "Rolled back deploy 4411" in page.locator('tr[data-kind="note"]').inner_text()
    resolved = page.locator('tr[data-kind="status"]').inner_text()
    assert "investigating -> resolved" in resolved and "Alice Archer" in resolved
    duration = page.locator("#clock-duration").inner_text()
    assert "so far" not in duration and "target 1h 00m" in duration
    assert "not acknowledged yet" in page.locator("#clock-tta").inner_text()
    # Resolving counts as mitigating at the latest: the clock is not empty.
    assert "not mitigated yet" not in page.locator("#clock-ttm").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-incident.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Show incidents").click()
    assert "resolved" in page.locator(f'tr[data-incident="{key}"]').inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-incidents.png"), full_page=True)

    told = tocsin("incident", "show", key, "--json", "--config", str(served.config_path),
                  "--db", served.db_url)
    assert told.returncode == 0, told.stderr
    shown = json.loads(told.stdout)
    assert shown["status"] == "resolved"
    assert [(e["kind"], e["actor"], e["surface"]) for e in shown["timeline"]
            if e["kind"] != "postmortem"] == [
        ("declared", "alice", "ui"), ("role", "alice", "ui"), ("paged", "alice", "ui"),
        ("role", "alice", "ui"), ("note", "alice", "ui"), ("status", "alice", "ui"),
        ("pages_resolved", "alice", "ui")]


def test_a_wrong_note_time_is_named_beside_its_field(  # type: ignore[no-untyped-def]
        page, served) -> None:
    _log_in(page, "/ui/incidents/new")
    _declare(page, "Search is slow")

    page.get_by_label("Note", exact=True).fill("from the future")
    page.locator("#note-occurred_at").fill("2099-01-01T09:00")
    page.get_by_role("button", name="Add note").click()

    assert page.locator("#note-occurred_at-error").inner_text() == "give a time at or before now"
    assert page.locator("#note-text").input_value() == "from the future"
    assert page.locator('tr[data-kind="note"]').count() == 0
