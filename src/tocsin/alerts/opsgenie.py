"""Opsgenie's alert API bodies as Tocsin events: pure parsing, no storage.

A create body becomes an `IncomingEvent` plus the responders it names; an
acknowledge or close body is only who asked and why. What Opsgenie itself
refuses (no message, a message over 130 characters, an alias over 512, an
unknown priority) is refused here with the field named; what Opsgenie cuts
or ignores (long descriptions, surplus tags, `visibleTo`, `actions`) is cut
or kept aside the same way, so a sender never loses an alert over it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, cast, get_args

from tocsin.alerts.mapping import FieldPlan, default_plan
from tocsin.alerts.responders import Resolved, ResponderRef, ResponderType, resolve
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.sources import (
    MAX_DEDUP_KEY,
    FieldError,
    SourceError,
    check_text,
    read_fields,
    shorten,
)
from tocsin.config.model import Config

MAX_MESSAGE = 130
MAX_ALIAS = 512
MAX_DESCRIPTION = 15000
MAX_TAGS, MAX_TAG = 20, 50
MAX_ENTITY = 512
MAX_SOURCE = MAX_USER = 100
MAX_NOTE = 25000
MAX_RESPONDERS = 50
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
DEFAULT_PRIORITY = "P3"
IDENTIFIER_TYPES = ("id", "alias", "tiny")
RESPONDER_TYPES: tuple[ResponderType, ...] = get_args(ResponderType)


class UnstorableText(SourceError):
    """Text no store can keep (NUL, lone surrogates): 400 on every endpoint."""


@dataclass(frozen=True)
class CreateRequest:
    event: IncomingEvent
    alias: str  # as sent, or the one made for an alert sent without one
    responders: Resolved
    user: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ActionRequest:
    user: str | None = None
    source: str | None = None
    note: str | None = None


def dedup_key(alias: str) -> str:
    """The dedup key an alias is stored under.

    Opsgenie allows aliases of 512 characters and Tocsin's keys hold 255, so
    a longer alias is stored as its SHA-256; the same alias always maps to
    the same key, so deduplication and acting by alias still work.
    """
    if len(alias) <= MAX_DEDUP_KEY:
        return alias
    return "sha256:" + hashlib.sha256(alias.encode("utf-8")).hexdigest()


def parse_create(
    body: Any, *, config: Config, default_source: str | None = None,
    plan: FieldPlan | None = None,
) -> CreateRequest:
    """The alert a create body describes, or SourceError naming every bad field.

    Responders are looked up in `config`; one that names nothing is a bad field.
    `plan` says where each field comes from (the integration's `fields:`).
    """
    if not isinstance(body, dict):
        raise SourceError([FieldError("body", "must be a JSON object")])
    _check_text(body)
    errors: list[FieldError] = []
    _message(body.get("message"), errors)
    alias = _text(body, "alias", errors, limit=MAX_ALIAS, cut=False)
    priority = _priority(body.get("priority"), errors)
    refs = _responders(body.get("responders"), errors)
    responders, unknown = resolve(config, refs)
    errors += unknown
    details = _details(body.get("details"), errors)
    tags = _tags(body.get("tags"), errors)
    description = _text(body, "description", errors, limit=MAX_DESCRIPTION)
    entity = _text(body, "entity", errors, limit=MAX_ENTITY)
    source = _text(body, "source", errors, limit=MAX_SOURCE) or default_source
    user = _text(body, "user", errors, limit=MAX_USER)
    note = _text(body, "note", errors, limit=MAX_NOTE)
    fields: dict[str, str] = {}
    if not errors:
        # Paths see the body as read: priority in capitals, details as text, cuts made.
        read = {**body, "priority": priority, "details": details, "description": description,
                "source": source}
        fields = read_fields(plan or default_plan("opsgenie"), read, errors)
    if errors:
        raise SourceError(errors)
    alias = alias or uuid.uuid4().hex
    labels = {**details, "priority": priority}
    if entity:
        labels["entity"] = entity
    if tags:
        labels["tags"] = ",".join(tags)
    kept: dict[str, Any] = {"alias": alias, "tags": tags, "details": details,
                            "entity": entity, "user": user}
    for name in ("actions", "visibleTo", "responders"):
        if body.get(name) is not None:
            kept[name] = body[name]
    event = IncomingEvent(
        action="trigger", dedup_key=dedup_key(alias), title=fields.get("title", ""),
        description=fields.get("description"), severity=fields.get("severity"),
        service=fields.get("service"), source=fields.get("source"), labels=labels,
        details=kept, runbook_url=fields.get("runbook_url"),
        source_url=fields.get("source_url"), responders=responders.targets,
    )
    return CreateRequest(event=event, alias=alias, responders=responders, user=user,
                         note=note)


def parse_action(body: Any) -> ActionRequest:
    """The optional body of an acknowledge or close: `user`, `source`, `note`."""
    if body is None:
        return ActionRequest()
    if not isinstance(body, dict):
        raise SourceError([FieldError("body", "must be a JSON object")])
    _check_text(body)
    errors: list[FieldError] = []
    user = _text(body, "user", errors, limit=MAX_USER)
    source = _text(body, "source", errors, limit=MAX_SOURCE)
    note = _text(body, "note", errors, limit=MAX_NOTE)
    if errors:
        raise SourceError(errors)
    return ActionRequest(user=user, source=source, note=note)


def check_identifier_type(value: str | None) -> str:
    """`identifierType` from the query string; Opsgenie's default is id."""
    kind = (value or "id").strip().lower()
    if kind not in IDENTIFIER_TYPES:
        raise SourceError([FieldError("identifierType", "must be one of id, alias or tiny")])
    return kind


def _check_text(body: dict[str, Any]) -> None:
    problems = check_text(body, "")
    if problems:
        raise UnstorableText(problems)


def _message(value: Any, errors: list[FieldError]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError("message", "Message can not be empty."))
        return ""
    if len(value) > MAX_MESSAGE:
        errors.append(FieldError(
            "message", f"Message is {len(value)} characters; the limit is {MAX_MESSAGE}."))
    return value


def _text(
    body: dict[str, Any], name: str, errors: list[FieldError], *, limit: int, cut: bool = True,
) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, f"{name} must be a string."))
        return None
    if len(value) > limit and not cut:
        errors.append(FieldError(
            name, f"{name} is {len(value)} characters; the limit is {limit}."))
        return None
    return shorten(value, limit)


def _priority(value: Any, errors: list[FieldError]) -> str:
    if value is None or value == "":
        return DEFAULT_PRIORITY
    if not isinstance(value, str) or value.strip().upper() not in PRIORITIES:
        errors.append(FieldError("priority", "Priority should be one of P1, P2, P3, P4, P5."))
        return DEFAULT_PRIORITY
    return value.strip().upper()


def _tags(value: Any, errors: list[FieldError]) -> list[str]:
    # Opsgenie ignores tags past the twentieth and shortens long ones.
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        errors.append(FieldError("tags", "tags must be a list of strings."))
        return []
    kept = [tag.strip()[:MAX_TAG] for tag in value if tag.strip()]
    return list(dict.fromkeys(kept))[:MAX_TAGS]


def _details(value: Any, errors: list[FieldError]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(FieldError("details", "details must be an object of strings."))
        return {}
    found: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            found[str(key)] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            found[str(key)] = str(item)
        elif item is not None:
            errors.append(FieldError(f"details.{key}", f"details.{key} must be a string."))
    return found


def _responders(value: Any, errors: list[FieldError]) -> tuple[ResponderRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.append(FieldError("responders", "responders must be a list."))
        return ()
    if len(value) > MAX_RESPONDERS:
        errors.append(FieldError(
            "responders", f"responders has {len(value)} entries; the limit is {MAX_RESPONDERS}."))
        return ()
    found: list[ResponderRef] = []
    for index, item in enumerate(value):
        ref = _responder(item, f"responders[{index}]", errors)
        if ref is not None and ref not in found:
            found.append(ref)
    return tuple(found)


def _responder(item: Any, path: str, errors: list[FieldError]) -> ResponderRef | None:
    if not isinstance(item, dict):
        errors.append(FieldError(path, "a responder must be an object with type and id or name."))
        return None
    kind = item.get("type")
    if kind not in RESPONDER_TYPES:
        errors.append(FieldError(
            f"{path}.type", "responder type should be one of user, team, schedule, escalation."))
        return None
    for by in ("id", "username", "name"):
        named = item.get(by)
        if isinstance(named, str) and named.strip():
            return ResponderRef(type=cast(ResponderType, kind), by=by, value=named.strip(),
                                path=path)
    wanted = "id or username" if kind == "user" else "id or name"
    errors.append(FieldError(path, f"a {kind} responder needs an {wanted}."))
    return None
