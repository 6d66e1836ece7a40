"""`tocsin route test`: which route an alert takes, and why, rule by rule."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from tocsin.alerts.group_rules import describe_key, group_key
from tocsin.alerts.routes import decide_route, decision_json
from tocsin.cli.common import ConfigOption, JsonOption, fail, load
from tocsin.config.model import Target
from tocsin.oncall.rules import parse_time

route_app = typer.Typer(no_args_is_help=True, help="The routing tree.")


def _labels(pairs: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"label {pair!r} is not NAME=VALUE; write it as severity=critical", code=2)
        labels[name.strip()] = value
    return labels


@route_app.command("test")
def route_test(
    labels: Annotated[list[str], typer.Argument(help="Alert labels as NAME=VALUE")],
    at: Annotated[str | None, typer.Option(
        help="When the alert fires (for active windows); ISO 8601, without an offset in "
             "the config's zone [now]")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Explain which route an alert with LABELS takes, rule by rule, and who it pages.

    `severity` and `service` are labels like any other, as for a real alert.
    """
    loaded = load(config)
    given = _labels(labels)
    zone = ZoneInfo(loaded.timezone)
    try:
        when = parse_time(at, zone) if at else datetime.now(UTC)
    except (ValueError, OverflowError) as exc:
        fail(f"--at: {exc}", code=2)
    decision = decide_route(loaded, given, severity=given.get("severity"),
                            service=given.get("service"), at=when)
    if as_json:
        sys.stdout.write(json.dumps(decision_json(decision), indent=2) + "\n")
        return
    for line in decision.explanation:
        sys.stdout.write(line + "\n")
    if decision.target is None:
        fallback = ", ".join(loaded.notifications.fallback) or "the console"
        sys.stdout.write(f"=> unrouted: the fallback contact ({fallback}) is paged\n")
        return
    channels = ", ".join(decision.channels) if decision.channels else "every contact channel"
    sys.stdout.write(f"=> {_named(decision.target)}, urgency {decision.urgency}, {channels}\n")
    for found in decision.also:
        route = found.choice.route
        sys.stdout.write(f"=> also {_named(found.choice.notify)}, from {route.path} "
                         f"(line {route.line}), escalating beside it\n")
    if decision.choice is not None and decision.choice.route.group_by:
        key = group_key(decision.choice.route.group_by, decision.labels)
        sys.stdout.write(f"=> grouped by {describe_key(key)}: an open group with these values "
                         "pages once for all its alerts\n")


def _named(target: Target) -> str:
    named = f"{target.kind.replace('_', ' ')} {target.name}"
    if target.kind != "escalation_policy":
        named += " (one step, no escalation)"
    return named
