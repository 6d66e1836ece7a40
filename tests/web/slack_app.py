"""A Tocsin app whose Slack pages go to the fake Slack, and Slack's requests back to it.

The engine is not started: tests run it with `run_due` after moving the
clock. `SlackWeb.click` posts, signed, the payload a Slack client sends for
a click on a control of a page message the fake received.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.support.fake_slack import FakeSlack
from tests.support.slack_clicks import block_actions, form_body, signed
from tests.web.conftest import PAGING, Web, close_web
from tocsin.clock import FakeClock
from tocsin.engine.runtime import build_runtime
from tocsin.web.app import create_app

SECRET = "slack-signing-secret-3c4d5e6f7a"
BOT_TOKEN = "xoxb-test-token-9d8c7b"
ALICE, BOB, STRANGER = "U0ALICE", "U0BOB", "U0STRANGER"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {slack: U0ALICE}}
  - {id: bob, name: Bob, contacts: {slack: U0BOB}}
  - {id: carol, name: Carol}
services:
  - {name: payment, escalation_policy: critical}
integrations:
  - {name: prometheus, type: alertmanager, key: am-key-7f3a9c2e51, service: payment}
notifications:
  slack: {token: xoxb-test-token-9d8c7b, signing_secret: slack-signing-secret-3c4d5e6f7a,
          api_url: "API_URL"}
api_tokens:
  - {name: reader, token: read-token-1a2b3c4d, user: carol, scope: read}
  - {name: writer, token: write-token-5e6f7a8b, user: bob, scope: write}
""" + PAGING


@dataclass
class SlackWeb:
    web: Web
    slack: FakeSlack
    trap: FakeSlack  # stands at the payload's response_url: nothing may reach it

    def fire(self) -> int:
        return self.web.fire()

    def page_to(self, slack_user: str, nth: int = -1) -> tuple[str, str, dict[str, Any]]:
        """(channel, ts, message) of a page the fake received for `slack_user`."""
        posts = [p for p in self.slack.posts if p[2]["channel"] == slack_user]
        assert posts, f"no Slack page reached {slack_user}"
        return posts[nth]

    def post(self, path: str, body: bytes, *, timestamp: int | None = None,
             secret: str = SECRET, content_type: dict[str, str] = FORM) -> httpx.Response:
        when = int(self.web.clock.now().timestamp()) if timestamp is None else timestamp
        headers = {**content_type, **signed(secret, body, when)}
        return self.web.client.post(path, content=body, headers=headers)

    def click(self, action_id: str, *, slack_user: str = ALICE, page_of: str = ALICE,
              option: int = 0, **changes: Any) -> httpx.Response:
        channel, ts, message = self.page_to(page_of)
        payload = block_actions(message, channel=channel, ts=ts, action_id=action_id,
                                slack_user=slack_user, option=option,
                                response_url=self.trap.base_url + "response")
        payload.update(changes)
        response = self.post("/slack/interactions", form_body(payload))
        assert response.status_code == 200, response.text
        return response

    def updates(self) -> list[dict[str, Any]]:
        return [call.params for call in self.slack.calls_to("chat.update")]

    def whispers(self) -> list[dict[str, Any]]:
        return [call.params for call in self.slack.calls_to("chat.postEphemeral")]


def make_slack_web(tmp_path: Path, db_url: str, clock: FakeClock, slack: FakeSlack,
                   config: str) -> Web:
    config_path = tmp_path / "tocsin.yaml"
    config_path.write_text(config.replace("API_URL", slack.base_url), encoding="utf-8")
    runtime = build_runtime(config_path=config_path, db_url=db_url, clock=clock,
                            console_stream=io.StringIO())
    client = TestClient(create_app(runtime, engine_required=False))
    return Web(client, runtime, clock, {}, config_path)


@contextmanager
def open_slack_web(tmp_path: Path, db_url: str, clock: FakeClock,
                   config: str = CONFIG) -> Iterator[SlackWeb]:
    """A Tocsin app paging through its real Slack notifier to a fake Slack on 127.0.0.1."""
    with FakeSlack() as slack, FakeSlack() as trap:
        web = make_slack_web(tmp_path, db_url, clock, slack, config)
        try:
            yield SlackWeb(web, slack, trap)
        finally:
            close_web(web)
