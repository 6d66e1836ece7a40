"""The webhook tracker: the item is POSTed, signed like every outbound webhook.

Body (version 1, stable; keys may be added, none removed):

    {"event": "action_item", "action_item": {"id", "title", "owner", "priority",
     "status", "due_date", "incident", "url"}}

with `Tocsin-Signature` and `Tocsin-Idempotency-Key` (the same across
retries of one push). A receiver may answer `{"key": "...", "url": "..."}`
to name what it made; status comes back through
`POST /api/v1/action-items/{id}/tracker-status`, not by polling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tocsin.config.model import WebhookTracker as WebhookConfig
from tocsin.notify.trackers import Created, FarStatus, IssueDraft, request
from tocsin.notify.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, encode_body, sign

NAME = "webhook"


class WebhookTracker:
    name = NAME

    def __init__(self, config: WebhookConfig, client: httpx.Client,
                 now_unix: Callable[[], int]) -> None:
        self._config = config
        self._client = client
        self._now_unix = now_unix

    def find(self, draft: IssueDraft) -> Created | None:
        return None  # the idempotency key lets the receiver drop a repeat

    def create(self, draft: IssueDraft) -> Created:
        body = encode_body({"event": "action_item", "action_item": {
            "id": draft.item_id, "title": draft.title, "owner": draft.owner,
            "priority": draft.priority, "status": draft.status,
            "due_date": draft.due_date.isoformat() if draft.due_date else None,
            "incident": draft.incident, "url": draft.url}})
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(self._config.secret, self._now_unix(), body),
                   IDEMPOTENCY_HEADER: draft.idempotency_key}
        response = request(self._client, NAME, "POST", self._config.url, content=body,
                           headers=headers)
        answer = _json_or_empty(response)
        key, url = answer.get("key"), answer.get("url")
        return Created(key=str(key)[:200] if key else f"item-{draft.item_id}",
                       url=url if isinstance(url, str) else None)

    def status(self, key: str) -> FarStatus | None:
        return None  # the receiver posts status back


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
