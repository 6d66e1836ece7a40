"""The reliability dashboard in a real browser: Debian's chromium, driven by Playwright, on
`tocsin serve` with its real clock.

The rows of tests/ui/dashboarding.py are placed eight weeks back, so the
default 90 days show them and the last 30 days do not. The page must load
with no console error (the content security policy would report a blocked
script or style), show its three charts by their accessible names, and
change its figures when another period is chosen.
"""

from __future__ import annotations

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
    serve_with_alice,
    wait_for_url_ending,
    watched_page,
)
from tests.ui.dashboarding import seed
from tocsin.db import make_engine, make_sessionmaker, transaction

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path("/tmp")
CONFIG = """
    timezone: UTC
    users:
      - {id: alice, name: Alice Archer}
      - {id: bob, name: Bob Baker}
    services:
      - {name: payment}
    """
CHARTS = ("MTTR by severity per week", "Incidents per week", "Interruptions per person")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TocsinServer]:
    folder = tmp_path_factory.mktemp("ui-dashboard-browser")
    for server in serve_with_alice(folder, textwrap.dedent(CONFIG)):
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        monday = today - timedelta(days=today.weekday(), weeks=8)
        engine = make_engine(f"sqlite:///{folder / 'tocsin.db'}")
        with transaction(make_sessionmaker(engine)) as session:
            seed(session, monday)
        engine.dispose()
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    yield from watched_page(browser, served)


def test_the_dashboard_draws_its_charts_and_follows_the_period(
        page, served) -> None:  # type: ignore[no-untyped-def]
    page.goto("/ui/reliability")
    page.get_by_label("User id or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    wait_for_url_ending(page, "/ui/reliability")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Reliability")\
        .get_attribute("aria-current") == "page"
    for name in CHARTS:
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        assert chart.bounding_box()["height"] > 100
    incidents = page.locator('[data-tile="incidents"] .tile-value')
    assert incidents.inner_text() == "4"
    page.get_by_text("The numbers of “Interruptions per person”").click()
    assert "Alice Archer" in page.locator('[data-chart="chart-people"] table').inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-reliability-90.png"), full_page=True)

    page.get_by_label("Period").select_option("30")
    page.get_by_role("button", name="Show").click()

    wait_for_url_ending(page, "/ui/reliability?days=30&since=&until=")
    assert incidents.inner_text() == "0"
    assert page.locator(".no-data").count() == 3
    assert page.get_by_role("img").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "ui-reliability-30.png"), full_page=True)
