"""Turn what each source sends into `IncomingEvent`s, or say what is wrong.

Pure parsing: bodies are already decoded JSON. Unknown keys are ignored so
newer senders keep working; anything that can never succeed is reported
with the path of the field at fault.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from tocsin.alerts.mapping import FieldPlan, default_plan
from tocsin.alerts.rules import Action, IncomingChange, IncomingEvent

PD_SEVERITIES = ("critical", "error", "warning", "info")
PD_ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_DESCRIPTION = 16 * 1024
# Column widths of the alerts table: longer values are refused, not cut.
MAX_SEVERITY = 64
MAX_SERVICE = 200
ZERO_TIME_PREFIX = "0001-01-01"


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str


class SourceError(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors


def check_text(value: Any, path: str) -> list[FieldError]:
    """Find text that no store can keep: NUL characters and lone surrogates.

    PostgreSQL refuses NUL in text and neither backend takes a lone
    surrogate; both are refused here, alike, naming the field.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return [FieldError(path, "contains a NUL character (\\u0000), which cannot be stored")]
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [FieldError(path, "contains a lone UTF-16 surrogate; send valid UTF-8")]
        return []
    if isinstance(value, Mapping):
        found: list[FieldError] = []
        for key, item in value.items():
            found += check_text(key, f"{path}.{key!s}" if path else str(key))
            found += check_text(item, f"{path}.{key!s}" if path else str(key))
        return found
    if isinstance(value, list):
        return [e for i, item in enumerate(value) for e in check_text(item, f"{path}[{i}]")]
    return []


def shorten(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def parse_timestamp(text: str) -> datetime:
    """RFC 3339 as Go and Python write it; nanoseconds are cut to micro."""
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())
    cleaned = cleaned.replace("z", "Z")
    when = datetime.fromisoformat(cleaned)
    if when.tzinfo is None:
        raise ValueError("timestamp has no time zone offset")
    try:
        return when.astimezone(UTC)
    except OverflowError as exc:
        # 9999-12-31T23:59-10:00 is past year 9999 in UTC, which Python cannot hold.
        raise ValueError("timestamp is out of range") from exc


def string_map(value: Any, path: str, errors: list[FieldError]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(FieldError(path, "must be an object of strings"))
        return {}
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            errors.append(FieldError(f"{path}.{key}", "must be a string"))
            continue
        result[str(key)] = str(item)
    return result


def optional_str(value: Any, path: str, errors: list[FieldError]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append(FieldError(path, "must be a string"))
        return None
    return value


# Fields cut to fit a page (the whole text stays in the source's details), and
# fields refused when longer, as a cut would change what they match.
_CUT = {"title": MAX_SUMMARY, "description": MAX_DESCRIPTION}
_MOST = {"severity": MAX_SEVERITY, "service": MAX_SERVICE}


def read_fields(
    plan: FieldPlan, item: Any, errors: list[FieldError], *, at: str = "", group: Any = None,
) -> dict[str, str]:
    """The mapped fields of one alert, cut or checked to fit; `at` is the alert's path."""
    fields: dict[str, str] = {}
    for name, (value, path, from_group) in plan.pick(item, group).items():
        where = path if from_group or not at else f"{at}.{path}"
        if from_group:
            # The parsers check the alert for unstorable text, not the webhook around it.
            problems = check_text(value, where)
            if problems:
                errors += problems
                continue
        most = _MOST.get(name)
        if most is not None and len(value) > most:
            errors.append(FieldError(where, f"must be at most {most} characters "
                                            f"to be the alert's {name}"))
            continue
        cut = _CUT.get(name)
        fields[name] = value if cut is None else (shorten(value, cut) or value)
    return fields


# --- Prometheus Alertmanager (webhook version 4) -------------------------


def parse_alertmanager(
    body: Any, plan: FieldPlan | None = None,
) -> tuple[list[IncomingEvent], list[FieldError]]:
    """Events for every well-formed alert, and errors for the others.

    A body that is not an Alertmanager webhook at all raises SourceError; one
    bad alert among many does not cost the others. `plan` says where each
    field comes from (the integration's `fields:`); by default, the type's.
    """
    return _parse_alert_list(body, _alertmanager_alert, plan or default_plan("alertmanager"))


@dataclass(frozen=True)
class _Webhook:
    """What every alert of one webhook shares."""

    body: dict[str, Any]
    status: str | None  # the body's status, for alerts that leave theirs out
    plan: FieldPlan


# (alert, its path, its webhook, errors to add to) -> event
_AlertParser = Callable[[Any, str, _Webhook, list[FieldError]], IncomingEvent | None]


def _parse_alert_list(
    body: Any, parse_one: _AlertParser, plan: FieldPlan,
) -> tuple[list[IncomingEvent], list[FieldError]]:
    if not isinstance(body, dict):
        raise SourceError([FieldError("body", "must be a JSON object")])
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise SourceError([FieldError("alerts", "must be a list of alerts")])
    group_status = body.get("status") if body.get("status") in ("firing", "resolved") else None
    webhook = _Webhook(body, group_status, plan)
    events: list[IncomingEvent] = []
    errors: list[FieldError] = []
    for index, alert in enumerate(alerts):
        alert_errors: list[FieldError] = []
        event = parse_one(alert, f"alerts[{index}]", webhook, alert_errors)
        if event is None or alert_errors:
            errors += alert_errors
        else:
            events.append(event)
    return events, errors


def _alertmanager_alert(
    alert: Any, path: str, webhook: _Webhook, errors: list[FieldError],
    default_title: str = "Alertmanager alert",
) -> IncomingEvent | None:
    if not isinstance(alert, dict):
        errors.append(FieldError(path, "must be an object"))
        return None
    errors += check_text(alert, path)
    labels = string_map(alert.get("labels"), f"{path}.labels", errors)
    annotations = string_map(alert.get("annotations"), f"{path}.annotations", errors)
    status = alert.get("status") or webhook.status
    if status not in ("firing", "resolved"):
        errors.append(FieldError(f"{path}.status", "must be 'firing' or 'resolved'"))
        return None
    fingerprint = alert.get("fingerprint")
    if fingerprint is not None and (not isinstance(fingerprint, str) or not fingerprint):
        errors.append(FieldError(f"{path}.fingerprint", "must be a non-empty string"))
        return None
    if fingerprint is not None and len(fingerprint) > MAX_DEDUP_KEY:
        errors.append(FieldError(f"{path}.fingerprint",
                                 f"must be at most {MAX_DEDUP_KEY} characters"))
        return None
    if not fingerprint and not labels:
        errors.append(FieldError(f"{path}.labels", "an alert needs labels or a fingerprint"))
        return None
    starts = _am_time(alert.get("startsAt"), f"{path}.startsAt", errors)
    ends = _am_time(alert.get("endsAt"), f"{path}.endsAt", errors)
    optional_str(alert.get("generatorURL"), f"{path}.generatorURL", errors)
    if errors:
        return None
    # Mapped paths see labels and annotations as read above (numbers as text).
    fields = read_fields(webhook.plan, {**alert, "labels": labels, "annotations": annotations},
                         errors, at=path, group=webhook.body)
    if errors:
        return None
    action: Action = "trigger" if status == "firing" else "resolve"
    return IncomingEvent(
        action=action,
        dedup_key=fingerprint or _fingerprint(labels),
        # Pages carry a short title; the whole annotation stays in details.
        title=fields.get("title") or default_title,
        instance=starts.isoformat() if starts else None,
        instance_time=starts,
        source_time=starts if action == "trigger" else (ends or starts),
        description=fields.get("description"),
        severity=fields.get("severity"),
        service=fields.get("service"),
        source=fields.get("source"),
        labels=labels,
        details={"annotations": annotations},
        source_url=fields.get("source_url"),
        runbook_url=fields.get("runbook_url"),
    )


def _am_time(value: Any, path: str, errors: list[FieldError]) -> datetime | None:
    if value in (None, "") or (isinstance(value, str) and value.startswith(ZERO_TIME_PREFIX)):
        return None
    if not isinstance(value, str):
        errors.append(FieldError(path, "must be an RFC 3339 timestamp string"))
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        errors.append(FieldError(path, f"is not an RFC 3339 timestamp: {value[:40]!r}"))
        return None


def _fingerprint(labels: dict[str, str]) -> str:
    canonical = "\x1f".join(f"{k}\x1e{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --- Grafana alerting webhook --------------------------------------------

# The links Grafana puts on each alert, as (field, name in details["links"]).
_GRAFANA_LINKS = (("generatorURL", "rule"), ("panelURL", "panel"),
                  ("dashboardURL", "dashboard"), ("silenceURL", "silence"),
                  ("imageURL", "image"))


def parse_grafana(
    body: Any, plan: FieldPlan | None = None,
) -> tuple[list[IncomingEvent], list[FieldError]]:
    """Grafana's webhook: Alertmanager's shape with links and query values added.

    The alert rule (generatorURL) is the source link, else the panel, else
    the dashboard; every link and the query values are kept in details.
    """
    return _parse_alert_list(body, _grafana_alert, plan or default_plan("grafana"))


def _grafana_alert(
    alert: Any, path: str, webhook: _Webhook, errors: list[FieldError],
) -> IncomingEvent | None:
    event = _alertmanager_alert(alert, path, webhook, errors, default_title="Grafana alert")
    if event is None:
        return None
    links = {name: optional_str(alert.get(field), f"{path}.{field}", errors)
             for field, name in _GRAFANA_LINKS}
    details: dict[str, Any] = {**event.details,
                               "links": {name: url for name, url in links.items() if url}}
    if alert.get("values") is not None:
        details["values"] = alert["values"]
    if isinstance(alert.get("valueString"), str) and alert["valueString"]:
        details["value_string"] = alert["valueString"]
    return replace(event, details=details)


# --- PagerDuty Events API v2 ---------------------------------------------


def parse_pagerduty(body: Any, plan: FieldPlan | None = None) -> tuple[str, IncomingEvent]:
    """The routing key and the event, or SourceError listing every problem."""
    if not isinstance(body, dict):
        raise SourceError([FieldError("body", "must be a JSON object")])
    errors = check_text(body, "")
    routing_key = body.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key:
        errors.append(FieldError("routing_key", "is required and must be a string"))
    action = body.get("event_action")
    if action not in PD_ACTIONS:
        errors.append(FieldError("event_action", "must be one of trigger, acknowledge, resolve"))
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or not dedup_key):
        errors.append(FieldError("dedup_key", "must be a non-empty string"))
    elif isinstance(dedup_key, str) and len(dedup_key) > MAX_DEDUP_KEY:
        errors.append(FieldError("dedup_key", f"must be at most {MAX_DEDUP_KEY} characters"))
    if action in ("acknowledge", "resolve") and dedup_key is None:
        errors.append(FieldError("dedup_key", f"is required to {action}"))
    event = None
    if action in PD_ACTIONS:
        event = _pd_event(body, action, dedup_key, errors, plan or default_plan("pagerduty"))
    if errors or event is None:
        raise SourceError(errors)
    assert isinstance(routing_key, str)
    return routing_key, event


def _pd_event(
    body: dict[str, Any], action: Action, dedup_key: Any, errors: list[FieldError],
    plan: FieldPlan,
) -> IncomingEvent | None:
    key = dedup_key if isinstance(dedup_key, str) else uuid.uuid4().hex
    payload = body.get("payload")
    if action != "trigger":
        return IncomingEvent(action=action, dedup_key=key, source_time=_pd_time(payload, []))
    if not isinstance(payload, dict):
        errors.append(FieldError("payload", "is required to trigger and must be an object"))
        return None
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append(FieldError("payload.summary", "is required and must be a string"))
    elif len(summary) > MAX_SUMMARY:
        errors.append(FieldError("payload.summary", f"must be at most {MAX_SUMMARY} characters"))
    source = payload.get("source")
    if not isinstance(source, str) or not source:
        errors.append(FieldError("payload.source", "is required and must be a string"))
    severity = payload.get("severity")
    if severity not in PD_SEVERITIES:
        errors.append(FieldError("payload.severity", "must be one of " + ", ".join(PD_SEVERITIES)))
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, dict | str | list | int | float):
        errors.append(FieldError("payload.custom_details", "must be an object"))
    when = _pd_time(payload, errors)
    labels = {
        name: str(payload[name])
        for name in ("component", "group", "class")
        if isinstance(payload.get(name), str | int | float) and payload.get(name) != ""
    }
    optional_str(body.get("client_url"), "client_url", errors)
    fields = read_fields(plan, body, errors) if not errors else {}
    if errors:
        return None
    # Tocsin made these labels, so they say what the alert holds, mapped or not.
    made: dict[str, str] = {name: fields[name] for name in ("severity", "source")
                            if name in fields}
    return IncomingEvent(
        action=action, dedup_key=key, title=fields.get("title", ""),
        severity=fields.get("severity"), source=fields.get("source"),
        service=fields.get("service"), description=fields.get("description"),
        labels={**labels, **made},
        details={"custom_details": details} if details is not None else {},
        source_time=when, instance_time=when,
        source_url=fields.get("source_url"), runbook_url=fields.get("runbook_url"),
    )


def _pd_time(payload: Any, errors: list[FieldError]) -> datetime | None:
    if not isinstance(payload, dict) or payload.get("timestamp") in (None, ""):
        return None
    value = payload["timestamp"]
    try:
        return parse_timestamp(str(value))
    except ValueError:
        errors.append(FieldError("payload.timestamp", "must be an ISO 8601 timestamp"))
        return None


# --- PagerDuty change events ---------------------------------------------


def parse_pagerduty_change(body: Any) -> tuple[str, IncomingChange]:
    """The routing key and the change, or SourceError listing every problem."""
    if not isinstance(body, dict):
        raise SourceError([FieldError("body", "must be a JSON object")])
    errors = check_text(body, "")
    routing_key = body.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key:
        errors.append(FieldError("routing_key", "is required and must be a string"))
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise SourceError([*errors, FieldError("payload", "is required and must be an object")])
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append(FieldError("payload.summary", "is required and must be a string"))
    elif len(summary) > MAX_SUMMARY:
        errors.append(FieldError("payload.summary", f"must be at most {MAX_SUMMARY} characters"))
    source = optional_str(payload.get("source"), "payload.source", errors)
    when = _pd_time(payload, errors)
    links = parse_links(body.get("links"), "links", errors)
    if errors:
        raise SourceError(errors)
    assert isinstance(routing_key, str) and isinstance(summary, str)
    return routing_key, IncomingChange(summary=summary, source=source, timestamp=when,
                                       details=payload.get("custom_details"), links=links)


def parse_links(value: Any, path: str, errors: list[FieldError]) -> list[dict[str, str]]:
    """A list of {href, text}: href required, text optional."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(FieldError(path, "must be a list of {href, text} objects"))
        return []
    links: list[dict[str, str]] = []
    for index, link in enumerate(value):
        at = f"{path}[{index}]"
        if not isinstance(link, dict):
            errors.append(FieldError(at, "must be an object with href and text"))
            continue
        href = link.get("href")
        if not isinstance(href, str) or not href:
            errors.append(FieldError(f"{at}.href", "is required and must be a string"))
            continue
        text = optional_str(link.get("text"), f"{at}.text", errors)
        links.append({"href": href, "text": text or href})
    return links
