"""The Jira adapter speaks REST v2 (plain description) and v3 (a rich-text document)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import httpx
import pytest

from tests.support.fake_trackers import FakeJira
from tocsin.config.model import JiraTracker
from tocsin.notify.trackers import IssueDraft, TrackerFailure
from tocsin.notify.trackers.jira import Jira

TOKEN = "jira-token-for-versions"
DRAFT = IssueDraft(item_id=4, title="Alert on disk usage", body="Line one\n\nLine three",
                   priority="P2", owner="alice", due_date=date(2026, 3, 10),
                   incident="INC-1", url="http://tocsin.test/ui/action-items?id=4",
                   status="planned", idempotency_key="action-item-push-1")


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("bot@example.com", TOKEN) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as made:
        yield made


def config(jira: FakeJira, version: int) -> JiraTracker:
    return JiraTracker(base_url=jira.base_url, project="OPS", email="bot@example.com",
                       token=TOKEN, api_version=version)


def test_v3_posts_a_document_and_reads_status_under_rest_api_3(jira, client):
    adapter = Jira(config(jira, 3), client)

    created = adapter.create(DRAFT)
    status = adapter.status(created.key)

    assert [(r.method, r.path) for r in jira.requests] == [
        ("POST", "/rest/api/3/issue"), ("GET", "/rest/api/3/issue/OPS-1")]
    description = jira.requests[0].body["fields"]["description"]
    assert description == {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Line one"}]},
        {"type": "paragraph", "content": []},
        {"type": "paragraph", "content": [{"type": "text", "text": "Line three"}]}]}
    assert status is not None and (status.done, status.label) == (False, "To Do")


def test_v2_posts_plain_text_and_a_wrong_token_is_refused_without_retry(jira, client):
    Jira(config(jira, 2), client).create(DRAFT)
    assert jira.requests[0].body["fields"]["description"] == "Line one\n\nLine three"

    with pytest.raises(TrackerFailure) as caught:
        Jira(replace(config(jira, 2), token="wrong"), client).create(DRAFT)
    assert not caught.value.retryable
    assert "HTTP 401: You are not authenticated." in caught.value.message
    assert TOKEN not in caught.value.message and "wrong" not in caught.value.message
