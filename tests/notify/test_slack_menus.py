"""The Reassign and Add responder menus stay inside Slack's Block Kit limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.config.helpers import load
from tests.support.pages import make_page
from tocsin.notify.slack import (
    REASSIGN_ACTION_ID,
    RESPONDER_ACTION_ID,
    UNACK_ACTION_ID,
    build_blocks,
    target_menus,
)

MANY = """\
users:
{users}
schedules:
  - name: primary
    rotation: weekly
    participants: [u000]
escalation_policies:
  - name: critical
    steps:
      - {{targets: [primary], timeout_minutes: 5}}
routes:
  - notify: critical
"""


def _controls(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return {element["action_id"]: element for element in actions["elements"]}


def test_a_menu_holds_at_most_100_options_each_within_slacks_lengths(tmp_path: Path):
    people = "\n".join(f"  - {{id: u{n:03}, name: {'Long name ' * 9}{n:03}}}"
                       for n in range(120))
    config, _warnings = load(tmp_path, MANY.format(users=people))

    menu = _controls(build_blocks(make_page(alert_id=7), menus=target_menus(config)))[
        REASSIGN_ACTION_ID]

    options = [o for group in menu["option_groups"] for o in group["options"]]
    assert len(options) == 100
    assert all(len(o["text"]["text"]) <= 75 for o in options)
    assert all(len(o["value"]) <= 150 for o in options)
    assert options[0]["value"] == "7:u:u000"


def test_without_menus_a_page_has_no_reassign_controls():
    controls = _controls(build_blocks(make_page()))

    assert REASSIGN_ACTION_ID not in controls and RESPONDER_ACTION_ID not in controls


def test_an_acknowledged_page_offers_un_acknowledge_and_no_add_responder(tmp_path: Path):
    config, _warnings = load(tmp_path, MANY.format(users="  - {id: u000}"))

    controls = _controls(build_blocks(make_page(status="acknowledged"),
                                      menus=target_menus(config)))

    assert controls[UNACK_ACTION_ID]["text"]["text"] == "Un-acknowledge"
    assert REASSIGN_ACTION_ID in controls and RESPONDER_ACTION_ID not in controls
