"""Jira (Cloud or Data Center) through its REST API, v2 or v3 (`api_version`).

Create: `POST {base_url}/rest/api/2/issue` with basic auth (the account's
e-mail and an API token); the issue gets the labels `tocsin` and
`tocsin-action-item-<id>`, and the item's due date as `duedate`. Priority
goes into the summary ("[P1] ..."): Jira's priority names differ between
sites, and an unknown one would refuse the whole issue. Status:
`GET /rest/api/2/issue/{key}?fields=status`; an issue is done when its
status category is `done`, whatever the workflow calls the status. Version
3 takes the same calls under `/rest/api/3/`; only the description differs:
a rich-text document (one paragraph per line) instead of plain text.
"""

from __future__ import annotations

from typing import Any

import httpx

from tocsin.config.model import JiraTracker
from tocsin.notify.trackers import Created, FarStatus, IssueDraft, TrackerFailure, request

NAME = "jira"


class Jira:
    name = NAME

    def __init__(self, config: JiraTracker, client: httpx.Client) -> None:
        self._config = config
        self._client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        path = path.replace("/rest/api/2/", f"/rest/api/{self._config.api_version}/")
        return request(self._client, NAME, method, self._config.base_url + path,
                       auth=(self._config.email, self._config.token),
                       headers={"Accept": "application/json"}, **kwargs)

    def find(self, draft: IssueDraft) -> Created | None:
        jql = f'project = "{self._config.project}" AND labels = "{draft.label}"'
        body = _json(self._call("GET", "/rest/api/2/search",
                                params={"jql": jql, "fields": "status", "maxResults": 1}))
        issues = body.get("issues") if isinstance(body, dict) else None
        if not issues:
            return None
        return self._created(issues[0])

    def create(self, draft: IssueDraft) -> Created:
        fields: dict[str, Any] = {
            "project": {"key": self._config.project},
            "summary": f"[{draft.priority}] {draft.title}"[:255],
            "description": (draft.body if self._config.api_version == 2
                            else _document(draft.body)),
            "issuetype": {"name": self._config.issue_type},
            "labels": ["tocsin", draft.label],
        }
        if draft.due_date is not None:
            fields["duedate"] = draft.due_date.isoformat()
        body = _json(self._call("POST", "/rest/api/2/issue", json={"fields": fields}))
        if not isinstance(body, dict) or not isinstance(body.get("key"), str):
            raise TrackerFailure("jira: the answer to the create holds no issue key")
        return self._created(body)

    def status(self, key: str) -> FarStatus | None:
        body = _json(self._call("GET", f"/rest/api/2/issue/{key}",
                                params={"fields": "status"}))
        return _status(body)

    def _created(self, issue: dict[str, Any]) -> Created:
        key = str(issue["key"])
        return Created(key=key, url=f"{self._config.base_url}/browse/{key}",
                       status=_status(issue))


def _document(text: str) -> dict[str, Any]:
    """Plain text as the Atlassian document format v3 asks for: a paragraph per line."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  if line else {"type": "paragraph", "content": []}
                  for line in text.split("\n")]
    return {"type": "doc", "version": 1, "content": paragraphs}


def _status(issue: Any) -> FarStatus | None:
    fields = issue.get("fields") if isinstance(issue, dict) else None
    status = fields.get("status") if isinstance(fields, dict) else None
    if not isinstance(status, dict):
        return None
    category = status.get("statusCategory")
    done = isinstance(category, dict) and category.get("key") == "done"
    return FarStatus(done=done, label=str(status.get("name") or ("done" if done else "open")))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TrackerFailure(f"jira answered HTTP {response.status_code} without JSON") from None
