"""A post-mortem written in a real browser: Debian's chromium, driven by Playwright, on
`tocsin serve` with its real clock and engine.

Alice declares and resolves an incident, drafts its post-mortem, writes a why-chain step
that names a person (a suggestion appears beside it, the save is not refused), adds a
step, requests review, publishes, finds it by search, and downloads the Markdown.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import TocsinServer
from tests.ui.browsing import PASSWORD, launch, serve_with_alice, watched_page

# The incident browser test's people, service and policy: a post-mortem needs an incident.
from tests.ui.test_browser_incidents import CONFIG

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TocsinServer]:
    folder = tmp_path_factory.mktemp("ui-postmortem-browser")
    yield from serve_with_alice(folder, textwrap.dedent(CONFIG))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch()


@pytest.fixture
def page(browser, served):  # type: ignore[no-untyped-def]
    yield from watched_page(browser, served)


def test_write_review_publish_find_and_export_a_postmortem(  # type: ignore[no-untyped-def]
        page, served, tmp_path: Path) -> None:
    page.goto("/ui/incidents/new")
    page.get_by_label("User id or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Title").fill("Certificate expired on checkout")
    page.get_by_label("SEV3").check()
    page.get_by_label("checkout").check()
    page.get_by_role("button", name="Declare incident").click()
    page.locator("#status-status").select_option("resolved")
    page.get_by_role("button", name="Save status").click()

    page.get_by_role("link", name="Post-mortem", exact=True).click()
    page.get_by_role("button", name="Draft post-mortem").click()
    assert page.get_by_role("status").inner_text() == (
        "Post-mortem drafted from the incident's timeline.")
    assert page.locator(".why-step").count() == 5
    page.get_by_label("1. Why?").fill("Why did checkout fail?")
    page.locator("#pm-because_0").fill("Bob Baker forgot to renew the certificate.")
    page.get_by_label("What caused it").fill("The certificate expired; nothing renewed it.")
    page.get_by_role("button", name="Add a why step").click()

    assert page.locator(".why-step").count() == 6
    hint = page.locator('li[data-field="whys[0].because"]')
    assert "names a person (Bob Baker)" in hint.inner_text()
    assert page.locator("#pm-because_0").input_value() == (
        "Bob Baker forgot to renew the certificate.")
    page.get_by_role("button", name="Request review").click()
    assert page.locator("#pm-status").inner_text() == "In review"
    page.get_by_role("button", name="Publish").click()
    assert page.get_by_role("status").inner_text() == "Post-mortem published."
    page.screenshot(path="/tmp/ui-postmortem.png", full_page=True)

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download Markdown").click()
    saved = tmp_path / "postmortem.md"
    downloaded.value.save_as(str(saved))
    text = saved.read_text(encoding="utf-8")
    for heading in ("# Post-mortem: INC-1 Certificate expired on checkout", "## Summary",
                    "## Impact", "## Timeline (UTC)", "## Root cause", "### Why-chain",
                    "## Contributing factors", "## What went well", "## What went badly",
                    "## Lessons learned", "## Action items"):
        assert f"\n{heading}\n" in f"\n{text}", heading
    assert "1. Why? Why did checkout fail?\n   Because: Bob Baker forgot to renew" in text

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Post-mortems").click()
    page.get_by_label("Search published").fill("certificate")
    page.get_by_role("button", name="Show post-mortems").click()
    assert page.locator('tr[data-postmortem="INC-1"]').count() == 1
    page.get_by_label("Search published").fill("no such words")
    page.get_by_role("button", name="Show post-mortems").click()
    assert page.locator("tr[data-postmortem]").count() == 0
