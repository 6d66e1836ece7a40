"""Where an alert goes: the routing tree, then its service's policy, then the fallback.

One function decides it for the ingest path, `tocsin route test` and the
API alike, so the explanation a user reads is the path alerts really take.

When routes with `continue` let several routes take an alert, the first is
the primary (its policy, urgency and channels are the alert's); each later
one whose policy is not already running adds that policy, which escalates
on the same alert beside the primary one. A policy named twice runs once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tocsin.alerts.group_rules import group_key
from tocsin.alerts.rules import urgency_for
from tocsin.config.model import Config, Target, Urgency
from tocsin.routing.rules import RouteChoice, alert_labels, explain_route

Via = Literal["route", "service", "fallback"]


@dataclass(frozen=True)
class AlsoTarget:
    """A further route that took the alert, and the policy it adds."""

    choice: RouteChoice
    policy: str


@dataclass(frozen=True)
class RouteDecision:
    labels: dict[str, str]  # what the routes saw
    choice: RouteChoice | None
    target: Target | None  # None: the fallback contact
    policy: str | None  # the escalation policy that runs; None: the fallback contact
    urgency: Urgency
    channels: tuple[str, ...] | None  # None: every contact channel
    via: Via
    explanation: tuple[str, ...]
    also: tuple[AlsoTarget, ...] = ()  # policies that run beside `policy`, in route order

    @property
    def also_policies(self) -> tuple[str, ...]:
        return tuple(found.policy for found in self.also)

    @property
    def where(self) -> str:
        """The route taken, for the alert's record: path, line and why."""
        if self.choice is None:
            return f"service {self.labels.get('service')}" if self.via == "service" else ""
        route = self.choice.route
        return f"{route.path} (line {route.line}): {self.choice.why}"


def policy_name(target: Target) -> str:
    """The policy a target runs: its own, or the one-step policy made for it."""
    return target.name if target.kind == "escalation_policy" else f"implicit:{target.name}"


def decide_route(
    config: Config, labels: Mapping[str, str], *, severity: str | None, service: str | None,
    at: datetime,
) -> RouteDecision:
    """Where an alert with these labels, severity and service goes at `at`.

    A route that names an urgency decides it; otherwise the severity does.
    An alert no route takes runs its service's escalation policy when the
    service catalog names one, and reaches the fallback contact otherwise.
    """
    seen = alert_labels(labels, severity=severity, service=service)
    choice, lines = explain_route(config.routes, seen, at=at, timezone=config.timezone)
    if choice is not None:
        route = choice.route
        urgency = route.urgency or urgency_for(severity)
        policy = policy_name(choice.notify)
        also, said = _also(choice, policy)
        return RouteDecision(seen, choice, choice.notify, policy, urgency,
                             route.channels, "route", (*lines, *said), also)
    urgency = urgency_for(severity)
    catalog = config.services.get(service) if service is not None else None
    if catalog is not None and catalog.escalation_policy is not None:
        target = Target("escalation_policy", catalog.escalation_policy)
        line = (f"service {service} names escalation policy {catalog.escalation_policy}: "
                "it takes the alert")
        return RouteDecision(seen, None, target, target.name, urgency, None, "service",
                             (*lines[:-1], line))
    return RouteDecision(seen, None, None, None, urgency, None, "fallback", lines)


def _also(choice: RouteChoice, primary: str) -> tuple[tuple[AlsoTarget, ...], list[str]]:
    """The further routes' policies, each once and never the primary's, and what was dropped."""
    found: list[AlsoTarget] = []
    said: list[str] = []
    running = {primary}
    for extra in choice.also:
        policy = policy_name(extra.notify)
        where = f"{extra.route.path} (line {extra.route.line})"
        if policy in running:
            said.append(f"{where}: policy {policy} already runs for this alert; it runs once")
            continue
        running.add(policy)
        found.append(AlsoTarget(extra, policy))
    return tuple(found), said


def decision_json(decision: RouteDecision) -> dict[str, Any]:
    """The shape `tocsin route test --json` prints and the API answers."""
    route = decision.choice.route if decision.choice is not None else None
    target = decision.target
    return {
        "labels": decision.labels,
        "via": decision.via,
        "route": route.path if route is not None else None,
        "line": route.line if route is not None else None,
        "notify": {"kind": target.kind, "name": target.name} if target is not None else None,
        "policy": decision.policy,
        "urgency": decision.urgency,
        "channels": list(decision.channels) if decision.channels is not None else None,
        # The labels and values that group the alert with others (alerts.groups); {}: none.
        "group_by": (group_key(route.group_by, decision.labels)
                     if route is not None and route.group_by else {}),
        "also": [
            {"route": found.choice.route.path, "line": found.choice.route.line,
             "notify": {"kind": found.choice.notify.kind, "name": found.choice.notify.name},
             "policy": found.policy}
            for found in decision.also
        ],
        "explanation": list(decision.explanation),
    }
