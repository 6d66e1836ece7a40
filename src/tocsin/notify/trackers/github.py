"""GitHub Issues (github.com or GitHub Enterprise) through the REST API.

Create: `POST {base_url}/repos/{owner}/{repo}/issues` with a bearer token;
the issue gets the labels `tocsin` and `tocsin-action-item-<id>`. Status:
`GET .../issues/{number}`: `closed` is done, `open` is not. An item's key
is `owner/repo#number`.
"""

from __future__ import annotations

from typing import Any

import httpx

from tocsin.config.model import GitHubTracker
from tocsin.notify.trackers import Created, FarStatus, IssueDraft, TrackerFailure, request

NAME = "github"


class GitHubIssues:
    name = NAME

    def __init__(self, config: GitHubTracker, client: httpx.Client) -> None:
        self._config = config
        self._client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._config.token}",
                   "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        return request(self._client, NAME, method,
                       f"{self._config.base_url}/repos/{self._config.repo}{path}",
                       headers=headers, **kwargs)

    def find(self, draft: IssueDraft) -> Created | None:
        found = _json(self._call("GET", "/issues",
                                 params={"labels": draft.label, "state": "all", "per_page": 1}))
        if not isinstance(found, list) or not found:
            return None
        return self._created(found[0])

    def create(self, draft: IssueDraft) -> Created:
        body = {"title": f"[{draft.priority}] {draft.title}"[:256], "body": draft.body,
                "labels": ["tocsin", draft.label]}
        return self._created(_json(self._call("POST", "/issues", json=body)))

    def status(self, key: str) -> FarStatus | None:
        number = key.rsplit("#", 1)[-1]
        return _status(_json(self._call("GET", f"/issues/{number}")))

    def _created(self, issue: Any) -> Created:
        if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
            raise TrackerFailure("github: the answer holds no issue number")
        url = issue.get("html_url")
        return Created(key=f"{self._config.repo}#{issue['number']}",
                       url=url if isinstance(url, str) else None, status=_status(issue))


def _status(issue: Any) -> FarStatus | None:
    state = issue.get("state") if isinstance(issue, dict) else None
    if state not in ("open", "closed"):
        return None
    return FarStatus(done=state == "closed", label=str(state))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TrackerFailure(f"github answered HTTP {response.status_code} without JSON") from None
