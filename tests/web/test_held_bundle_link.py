"""The ack-all link of pages a rate limit held calls the bundle what it is, not a storm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import (
    AM_KEY,
    CONFIG,
    PUBLIC_URL,
    READ_TOKEN,
    Web,
    alertmanager_body,
    close_web,
    make_web,
)
from tocsin.clock import FakeClock

LIMITED = CONFIG.replace(
    "  webhook: {secret: web-test-webhook-secret}\n",
    "  webhook: {secret: web-test-webhook-secret}\n"
    "  rate_limits:\n    webhook: {messages: 1, per_minutes: 1}\n")


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, LIMITED)
    yield made
    close_web(made)


def fire(web: Web, fingerprint: str) -> None:
    body = alertmanager_body(fingerprint)
    response = web.client.post(f"/integrations/{AM_KEY}/alertmanager", json=body)
    assert response.status_code == 200, response.text
    web.runtime.engine.run_due()


def test_the_link_and_the_api_say_the_rate_limit_held_them(web: Web, clock: FakeClock) -> None:
    assert "rate_limits" in LIMITED
    fire(web, "fp-0")
    fire(web, "fp-1")
    fire(web, "fp-2")
    clock.advance(minutes=1)
    web.runtime.engine.run_due()

    [page] = [page for page in web.channels["webhook"].bundles if page.user_id == "alice"]
    assert page.ack_url is not None
    response = web.client.get(page.ack_url.removeprefix(PUBLIC_URL))

    assert response.status_code == 200
    assert f"Bundle #{page.bundle_id} (rate limit)" in response.text
    assert "Storm" not in response.text
    shown = web.call("GET", f"/api/v1/bundles/{page.bundle_id}", READ_TOKEN).json()
    assert shown["reason"] == "rate limit"
    assert len(shown["alerts"]) == 2
