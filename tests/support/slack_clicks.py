"""What Slack sends Tocsin when someone clicks a control on a page message.

`block_actions` builds the interaction payload a Slack client produces for a
click on one of the controls of a message the fake Slack received (the real
action_id, value or chosen option, block_id and container). `signed` signs
a body with slack_sdk's own SignatureVerifier, so a mismatch between our
check and Slack's scheme fails the tests.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM = "T0TOCSIN"


def signed(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers Slack sends with `body` at unix time `timestamp`."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def control(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The element with `action_id` in the message's actions block."""
    for block in message["blocks"]:
        if block["type"] != "actions":
            continue
        for element in block["elements"]:
            if element["action_id"] == action_id:
                return dict(element, block_id=block["block_id"])
    raise AssertionError(f"the message has no control {action_id!r}")


def action_ids(message: dict[str, Any]) -> list[str]:
    return [element["action_id"] for block in message["blocks"] if block["type"] == "actions"
            for element in block["elements"]]


def block_actions(message: dict[str, Any], *, channel: str, ts: str, action_id: str,
                  slack_user: str, option: int = 0,
                  response_url: str = "http://127.0.0.1:9/never") -> dict[str, Any]:
    """The payload of a click on `action_id` (for a menu: its `option`-th choice)."""
    element = control(message, action_id)
    action: dict[str, Any] = {
        "type": element["type"], "action_id": action_id, "block_id": element["block_id"],
        "action_ts": "1772420400.000100",
    }
    if element["type"] == "button":
        action.update(value=element["value"], text=element["text"])
    else:
        # A menu with headings lists its options under each group; the click names one.
        options = element.get("options") or [
            choice for group in element["option_groups"] for choice in group["options"]]
        action.update(selected_option=options[option], placeholder=element["placeholder"])
    return {
        "type": "block_actions",
        "user": {"id": slack_user, "username": slack_user.lower(), "team_id": TEAM},
        "api_app_id": "A0TOCSIN",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                      "is_ephemeral": False},
        "trigger_id": "1.2.3",
        "team": {"id": TEAM, "domain": "tocsin-test"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": ts, "text": message.get("text"),
                    "blocks": message["blocks"]},
        "response_url": response_url,
        "actions": [action],
    }


def form_body(payload: dict[str, Any] | str) -> bytes:
    """The form Slack posts: one field `payload` holding the JSON."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urlencode({"payload": text}).encode("utf-8")
