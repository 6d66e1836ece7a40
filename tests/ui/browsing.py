"""What the browser tests share: Debian's chromium under Playwright, and a served Tocsin.

A module importing this is skipped (a failure under CI=true) when Playwright
or chromium is missing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import TocsinServer, tocsin_command
from tocsin import accounts
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.migrate import upgrade

CHROMIUM = "/usr/bin/chromium"
# Root in a container has no user namespaces for the sandbox; the rest keeps
# the browser from calling out to Google while the tests run.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery"

sync_api = pytest.importorskip("playwright.sync_api")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

# Playwright's assertions wait (five seconds) for the page to get there; a bare
# `is_visible()` or `page.url` reads the page at once, maybe before a click's
# navigation has landed.
expect = sync_api.expect


def wait_for_url_ending(page: Any, ending: str) -> None:
    """Wait until the page's navigation lands on a URL ending with `ending`."""
    page.wait_for_url(lambda url: url.endswith(ending), timeout=10_000)


def tocsin(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*tocsin_command(), *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def serve_with_alice(folder: Path, config_text: str, *,
                     password_by_cli: bool = False) -> Iterator[TocsinServer]:
    """`tocsin serve` on a new SQLite database where alice has a password.

    The database is migrated and the password set in this process (a CLI run is a
    second Python start, seconds on a loaded machine), unless `password_by_cli`:
    then `tocsin user set-password` sets it, as an operator would.
    """
    config = folder / "tocsin.yaml"
    config.write_text(config_text, encoding="utf-8")
    db = migrated_sqlite(folder)
    if password_by_cli:
        made = tocsin("user", "set-password", "alice", "--password-stdin", "--config",
                      str(config), "--db", db, stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    else:
        engine = make_engine(db)
        with transaction(make_sessionmaker(engine)) as session:
            accounts.set_password(session, user_id="alice", password=PASSWORD,
                                  now=datetime.now(UTC), actor="test", surface="cli")
        engine.dispose()
    with TocsinServer(config, db, folder / "logs") as server:
        yield server


def migrated_sqlite(folder: Path) -> str:
    """The URL of a new, migrated SQLite database in `folder`."""
    db = f"sqlite:///{folder / 'tocsin.db'}"
    engine = make_engine(db)
    upgrade(engine)
    engine.dispose()
    return db


def launch() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield launched
        launched.close()


def new_context(browser: Any, served: TocsinServer) -> Any:
    """A browser context that may reach our own server and nothing else."""
    context = browser.new_context(base_url=served.base_url, viewport={"width": 1400,
                                                                       "height": 900})
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(served.base_url) else route.abort())
    return context


def watched_page(browser: Any, served: TocsinServer,
                 expected_errors: tuple[str, ...] = ()) -> Iterator[Any]:
    """A page in its own context; after the test, no console error but those expected.

    A script or style the content security policy blocked shows up as a
    console error; `expected_errors` are endings of messages a test causes
    on purpose (a form's own 400, say).
    """
    context = new_context(browser, served)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text)
              if message.type == "error" else None)
    yield opened
    context.close()
    assert [p for p in problems if not p.endswith(expected_errors)] == []
