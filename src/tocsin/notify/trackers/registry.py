"""The configured tracker adapters, by the name items are pushed with."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tocsin.config.model import Trackers
from tocsin.notify.trackers import Tracker
from tocsin.notify.trackers.github import GitHubIssues
from tocsin.notify.trackers.jira import Jira
from tocsin.notify.trackers.webhook import WebhookTracker


def build_trackers(config: Trackers, client: httpx.Client,
                   now_unix: Callable[[], int]) -> dict[str, Tracker]:
    """`now_unix()` stamps the webhook tracker's signatures."""
    found: dict[str, Tracker] = {}
    if config.jira is not None:
        found["jira"] = Jira(config.jira, client)
    if config.github is not None:
        found["github"] = GitHubIssues(config.github, client)
    if config.webhook is not None:
        found["webhook"] = WebhookTracker(config.webhook, client, now_unix)
    return found
