"""The generic JSON alert: Tocsin's own format for scripts and tools with no plugin.

    {"summary": "Disk full on db-1", "severity": "critical", "source": "db-1",
     "dedup_key": "disk-db-1", "action": "trigger", "details": {...},
     "links": [{"href": "https://...", "text": "Grafana"}], "service": "payment",
     "labels": {"team": "storage"}, "timestamp": "2026-12-04T16:00:00Z"}

Only `summary` is required, and only to trigger. Without a `dedup_key` the
key is made from the source and the summary, so a script that sends the same
alert every minute updates one alert instead of opening one a minute.
Pure parsing; unknown keys are ignored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from tocsin.alerts.mapping import FieldPlan, default_plan
from tocsin.alerts.rules import Action, IncomingEvent
from tocsin.alerts.sources import (
    MAX_DEDUP_KEY,
    MAX_SERVICE,
    MAX_SEVERITY,
    MAX_SUMMARY,
    PD_ACTIONS,
    FieldError,
    SourceError,
    check_text,
    optional_str,
    parse_links,
    parse_timestamp,
    read_fields,
    string_map,
)

_SUMMARY_FIX = 'send a short text such as "Disk full on db-1"'


def parse_generic(body: Any, plan: FieldPlan | None = None) -> IncomingEvent:
    """The event a generic JSON alert describes, or SourceError listing every problem.

    `plan` says where each field comes from (the integration's `fields:`);
    by default, the generic format's own fields.
    """
    if not isinstance(body, dict):
        raise SourceError([FieldError("body", "must be a JSON object; " + _SUMMARY_FIX)])
    errors = check_text(body, "")
    action = body.get("action", "trigger")
    if action not in PD_ACTIONS:
        errors.append(FieldError("action", "must be trigger, acknowledge or resolve "
                                           "(trigger when left out)"))
        action = "trigger"
    summary = _summary(body.get("summary"), action, errors)
    source = optional_str(body.get("source"), "source", errors)
    dedup_key = _dedup_key(body.get("dedup_key"), action, summary, source, errors)
    _short(body.get("severity"), "severity", MAX_SEVERITY, errors)
    _short(body.get("service"), "service", MAX_SERVICE, errors)
    labels = string_map(body.get("labels"), "labels", errors)
    details = body.get("details")
    if details is not None and not isinstance(details, dict):
        errors.append(FieldError("details", 'must be an object, such as {"disk": "/var"}'))
    links = parse_links(body.get("links"), "links", errors)
    optional_str(body.get("description"), "description", errors)
    optional_str(body.get("runbook_url"), "runbook_url", errors)
    when = _timestamp(body.get("timestamp"), errors)
    fields: dict[str, str] = {}
    if not errors:
        # Mapped paths see labels as read above (numbers as text).
        fields = read_fields(plan or default_plan("generic"), {**body, "labels": labels}, errors)
    if errors:
        raise SourceError(errors)
    assert dedup_key is not None
    return _event(action, dedup_key, summary or "", fields, labels, details, links, when)


def _event(
    action: Action, dedup_key: str, summary: str, fields: dict[str, str],
    labels: dict[str, str], details: Any, links: list[dict[str, str]], when: datetime | None,
) -> IncomingEvent:
    kept: dict[str, Any] = {"details": details or {}, "links": links}
    if len(summary) > MAX_SUMMARY:
        # Pages carry a short title; the whole summary stays in details.
        kept["summary"] = summary
    return IncomingEvent(
        action=action, dedup_key=dedup_key, title=fields.get("title", ""),
        description=fields.get("description"), severity=fields.get("severity"),
        service=fields.get("service"), source=fields.get("source"), labels=labels,
        details=kept, source_url=fields.get("source_url"),
        runbook_url=fields.get("runbook_url"),
        source_time=when, instance_time=when if action == "trigger" else None,
    )


def _summary(value: Any, action: str, errors: list[FieldError]) -> str | None:
    if value is None:
        if action == "trigger":
            errors.append(FieldError("summary", "is required to trigger; " + _SUMMARY_FIX))
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError("summary", "must be a non-empty string; " + _SUMMARY_FIX))
        return None
    return value


def _dedup_key(
    value: Any, action: str, summary: str | None, source: str | None,
    errors: list[FieldError],
) -> str | None:
    if value is None:
        if summary is None:
            if action != "trigger":
                errors.append(FieldError(
                    "dedup_key", f"is required to {action}; send the dedup_key the trigger's "
                                 "reply returned, or the trigger's summary and source"))
            return None
        return derived_key(summary, source)
    if not isinstance(value, str) or not value:
        errors.append(FieldError("dedup_key", "must be a non-empty string, or left out"))
        return None
    if len(value) > MAX_DEDUP_KEY:
        errors.append(FieldError("dedup_key", f"must be at most {MAX_DEDUP_KEY} characters; "
                                              "send a shorter key or a hash of it"))
        return None
    return value


def derived_key(summary: str, source: str | None) -> str:
    """The key of an alert sent without one: the same summary and source, one alert."""
    canonical = f"{source or ''}\x1f{summary}"
    return "generic-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _short(value: Any, path: str, limit: int, errors: list[FieldError]) -> str | None:
    text = optional_str(value, path, errors)
    if text is not None and len(text) > limit:
        errors.append(FieldError(path, f"must be at most {limit} characters"))
        return None
    return text


def _timestamp(value: Any, errors: list[FieldError]) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            pass
    errors.append(FieldError("timestamp", "must be ISO 8601 with an offset, "
                                          "such as 2026-12-04T16:00:00Z"))
    return None
