"""Load `tocsin.yaml` into a `Config`, or say everything that is wrong with it.

The tables below are the whole file format: every key the design names is
listed, either with how its value is read or as recognised but not built
yet, so no key is ever silently ignored. `validate` then checks what needs
the whole file (names, targets, escalation rules) and builds the model.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from tocsin.config.convert import (
    a_date,
    a_time,
    boolean,
    choice,
    nonblank,
    number,
    seq,
    shape,
    text,
    text_map,
    time_of_day,
    time_range,
    weekday,
    zone,
)
from tocsin.config.fields import read_field_map
from tocsin.config.incidents import INCIDENTS, SEVERITY_KEYS
from tocsin.config.metrics import METRICS
from tocsin.config.model import CONTACT_CHANNELS, Config
from tocsin.config.pacing import FAILOVER_AFTER, RATE_LIMITS_KEY
from tocsin.config.patterns import pattern_problem
from tocsin.config.phones import e164
from tocsin.config.postmortems import POSTMORTEMS
from tocsin.config.schema import (
    Convert,
    Fields,
    Items,
    Key,
    Problem,
    Problems,
    Reader,
    Shape,
    Spot,
    describe,
    line_of,
)
from tocsin.config.statuspage import COMPONENT, STATUS_PAGE
from tocsin.config.storms import storm_setting
from tocsin.config.surveys import SURVEYS
from tocsin.config.templates import message_templates
from tocsin.config.trackers import ACTION_ITEMS, TRACKERS
from tocsin.config.validate import ROUTE_CHANNELS, build_config

__all__ = ["ConfigError", "Problem", "load_config"]

_FILE = "(file)"  # the path shown for problems with the file as a whole
# Waits longer than four weeks are typos, not policies; the engine could not
# schedule a calendar-busting one anyway. Repeats past 100 are a paging loop.
MAX_MINUTES = 4 * 7 * 24 * 60
MAX_REPEAT = 100
# A body is held in memory while it is parsed; past 256 MiB that is a typo.
MAX_BODY_KIB = 256 * 1024
# A rotation longer than a year would hand off less than once a year: a typo.
MAX_EVERY_HOURS, MAX_EVERY_DAYS, MAX_EVERY_WEEKS = 366 * 24, 366, 52
# Flapping keeps up to `changes + 1` times per alert key, and holds a page for
# up to `minutes`: past 100 changes or a day, the setting is a typo.
MAX_FLAP_CHANGES = 100
MAX_FLAP_MINUTES = 24 * 60


class ConfigError(Exception):
    """A file that cannot be used; `problems` holds its errors and warnings by line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(problem.format() for problem in problems))
        self.problems = problems


def load_config(
    path: str | Path, env: Mapping[str, str] | None = None
) -> tuple[Config, list[Problem]]:
    """Return the config and its warnings, or raise ConfigError listing every problem."""
    file = str(path)
    problems = Problems(file)
    config = None
    root = _compose(Path(path), problems)
    if root is not None:
        reader = Reader(problems, os.environ if env is None else env)
        top = reader.shape(root, "", TOP)
        if top is not None:
            config = build_config(top, file, problems)
    if config is None or problems.has_errors:
        raise ConfigError(problems.by_line())
    return config, problems.warnings()


def _compose(path: Path, problems: Problems) -> yaml.MappingNode | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problems.error(Spot(0, _FILE), f"cannot read the file: {reason}", "check the path")
        return None
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problems.error(Spot(line, _FILE), "not UTF-8 text", "save the file as UTF-8")
        return None
    try:
        # compose() stops at nodes: tags are never acted on and nothing is constructed.
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except RecursionError:
        # The composer recurses once per level; a reload must refuse the file, not crash.
        problems.error(Spot(1, _FILE), "nested too deeply to read", "flatten the file")
        return None
    except yaml.MarkedYAMLError as exc:
        _syntax_error(exc, problems)
        return None
    except yaml.YAMLError as exc:
        problems.error(Spot(1, _FILE), f"not valid YAML: {exc}", _YAML_FIX)
        return None
    return _top_mapping(root, problems)


_YAML_FIX = "check the indentation, colons and quotes on this line and the one before"


def _syntax_error(exc: yaml.MarkedYAMLError, problems: Problems) -> None:
    mark = exc.problem_mark or exc.context_mark
    line = int(mark.line) + 1 if mark is not None else 1
    said = ", ".join(part for part in (exc.context, exc.problem) if part)
    fix = _YAML_FIX
    if exc.context == "expected a single document in the stream":
        fix = "keep one document: remove the --- line and what follows, or merge them"
    problems.error(Spot(line, _FILE), f"not valid YAML: {said}", fix)


def _top_mapping(root: yaml.Node | None, problems: Problems) -> yaml.MappingNode | None:
    if root is None:
        problems.error(Spot(1, _FILE), "the file is empty", "start from examples/tocsin.yaml")
        return None
    if not isinstance(root, yaml.MappingNode):
        problems.error(
            Spot(line_of(root), _FILE),
            f"the top level must be a mapping of keys, got {describe(root)}",
            "start the file with keys such as schedules:, escalation_policies:, routes:",
        )
        return None
    return root


# Converters for values only this format has.


def _rotation(reader: Reader, node: yaml.Node, path: str) -> str | tuple[str, int] | None:
    """`daily`, `weekly`, or `{every: N}` read as (kind, N) with kind hours, days or weeks."""
    if isinstance(node, yaml.MappingNode):
        fields = reader.shape(node, path, _EVERY)
        return None if fields is None else fields.get("every")
    rotation: str | None = _DAILY_OR_WEEKLY(reader, node, path)
    return rotation


_EVERY_UNITS = {"h": ("hours", MAX_EVERY_HOURS), "d": ("days", MAX_EVERY_DAYS),
                "w": ("weeks", MAX_EVERY_WEEKS)}
_EVERY_FIX = "write every: 12h (hours, elapsed), every: 3d (days) or every: 2w (weeks)"


def _every(reader: Reader, node: yaml.Node, path: str) -> tuple[str, int] | None:
    value = reader.string(node, path)
    if value is None:
        return None
    found = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value)
    if found is None:
        reader.error(node, path, f"'{value}' is not a rotation length", _EVERY_FIX)
        return None
    count, (kind, most) = int(found[1]), _EVERY_UNITS[found[2]]
    if not 1 <= count <= most:
        reader.error(node, path, f"every {count} {kind} is out of range",
                     f"use 1 to {most} {kind}")
        return None
    return kind, count


_EVERY: Shape = {"every": Key(_every, required=True, example="every: 12h")}
_DAILY_OR_WEEKLY = choice("daily", "weekly")


def _email(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        reader.error(node, path, f"'{value}' is not an e-mail address", "write it as name@domain")
        return None
    return value


def _url(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is not None and not re.match(r"https?://\S+$", value):
        reader.error(node, path, f"'{value}' is not an http(s) URL", "write it as https://host/")
        return None
    return value


def _integration_key(reader: Reader, node: yaml.Node, path: str) -> str | None:
    # An integration's key is part of its URL, so it must need no escaping.
    value = reader.string(node, path)
    if value is not None and not re.fullmatch(r"[A-Za-z0-9._~-]+", value):
        reader.error(
            node,
            path,
            "a key must be non-empty and hold only letters, digits and - _ . ~",
            "use a random string such as one from `openssl rand -hex 16`",
        )
        return None
    return value


def _regex(reader: Reader, node: yaml.Node, path: str) -> str | None:
    # Compiled here by RE2, which matching uses too (and keeps compiled).
    value = reader.string(node, path)
    if value is None:
        return None
    problem = pattern_problem(value)
    if problem is not None:
        reader.error(node, path, *problem)
        return None
    return value


_FLAPPING: Shape = {
    "changes": Key(number(1, whole=True, maximum=MAX_FLAP_CHANGES)),
    "minutes": Key(number(above=True, maximum=MAX_FLAP_MINUTES)),
}
_FLAPPING_KINDS = "off or a mapping such as {changes: 5, minutes: 30}"
_FLAPPING_FIX = "write flapping: {changes: 5, minutes: 30}, or flapping: off to turn it off"


def _flapping(reader: Reader, node: yaml.Node, path: str) -> Fields | str | None:
    """`off`, or `{changes: N, minutes: M}` with either left out for its default."""
    if isinstance(node, yaml.MappingNode):
        return reader.shape(node, path, _FLAPPING)
    if not isinstance(node, yaml.ScalarNode):
        reader.wrong_type(node, path, _FLAPPING_KINDS, _FLAPPING_FIX)
        return None
    value = reader.string(node, path)
    if value is None:
        return None
    if value.strip().lower() == "off":
        return "off"
    reader.error(node, path, f"bad value '{value}': must be {_FLAPPING_KINDS}", _FLAPPING_FIX)
    return None


def _name(example: str) -> Key:
    return Key(nonblank, required=True, example=f"name: {example}")


_NAMES = seq(nonblank)

_CONTACTS: Shape = {channel: Key(nonblank) for channel in CONTACT_CHANNELS}

# A notification rule waits at most a day; a longer delay is a typo (docs/channels.md).
MAX_RULE_MINUTES = 24 * 60
_RULE: Shape = {
    "channel": Key(choice(*CONTACT_CHANNELS), required=True, example="channel: slack"),
    "after_minutes": Key(number(0, maximum=MAX_RULE_MINUTES)),
}
_RULES = seq(shape(_RULE), non_empty=True,
             empty_fix="list at least one {channel, after_minutes}, or remove the key")
_NOTIFICATION_RULES: Shape = {"high": Key(_RULES), "low": Key(_RULES)}

_USER: Shape = {
    "id": Key(nonblank, required=True, example="id: alice"),
    "email": Key(_email),
    "name": Key(text),
    "timezone": Key(zone),
    "contacts": Key(shape(_CONTACTS)),
    "notification_rules": Key(shape(_NOTIFICATION_RULES)),
}

_TEAM: Shape = {"name": _name("payments"), "members": Key(_NAMES), "services": Key(_NAMES)}

_SERVICE: Shape = {
    "name": _name("payment"),
    "escalation_policy": Key(nonblank),
    "team": Key(nonblank),
}

_RESTRICTION: Shape = {
    "days": Key(
        seq(weekday, non_empty=True, empty_fix="list days such as [mon, tue], or remove days")
    ),
    "from": Key(time_of_day, required=True, example='from: "09:00"'),
    "to": Key(time_of_day, required=True, example='to: "17:00"'),
}

# What one rotation needs; a schedule has these at its top or once per layer.
_ROTATION_KEYS: Shape = {
    "rotation": Key(_rotation, required=True, example="rotation: weekly"),
    "start_day": Key(weekday),
    "start_time": Key(time_of_day),
    "start_date": Key(a_date),
    "participants": Key(
        seq(nonblank, non_empty=True), required=True, example="participants: [alice@company.com]"
    ),
    "restrictions": Key(
        seq(
            shape(_RESTRICTION),
            non_empty=True,
            empty_fix="list at least one window, or remove restrictions to be on call all the time",
        )
    ),
}

_LAYER: Shape = {"name": Key(nonblank), **_ROTATION_KEYS}

_OVERRIDE: Shape = {
    "user": Key(nonblank, required=True, example="user: carol@company.com"),
    "replaces": Key(nonblank),
    "add": Key(boolean),
    "start": Key(a_time, required=True, example="start: 2026-03-02T09:00"),
    "end": Key(a_time, required=True, example="end: 2026-03-03T09:00"),
}

_LAYERS = seq(
    shape(_LAYER),
    non_empty=True,
    empty_fix="list at least one layer, or remove layers and use top-level rotation keys",
)

_SCHEDULE: Shape = {
    "name": _name("primary-oncall"),
    "timezone": Key(zone),
    **_ROTATION_KEYS,
    "layers": Key(_LAYERS),
    "overrides": Key(seq(shape(_OVERRIDE))),
    "team": Key(nonblank),
    # Coverage is checked 14 days ahead, so a notice cannot be sent earlier.
    "gap_notice_days": Key(number(maximum=14)),
}

# With layers, the top-level rotation keys are still read (so that writing
# both can be reported with its lines) but none of them is required.
_LAYERED_SCHEDULE: Shape = {
    **{
        key: dataclasses.replace(spec, required=False) if key in _ROTATION_KEYS else spec
        for key, spec in _SCHEDULE.items()
        if isinstance(spec, Key)
    },
    "layers": Key(_LAYERS, required=True, example="layers: [{rotation: weekly, ...}]"),
}


def _schedule(reader: Reader, node: yaml.Node, path: str) -> Fields | None:
    layered = isinstance(node, yaml.MappingNode) and any(
        isinstance(key, yaml.ScalarNode) and key.value == "layers" for key, _ in node.value
    )
    return reader.shape(node, path, _LAYERED_SCHEDULE if layered else _SCHEDULE)


_STEP: Shape = {
    "targets": Key(
        seq(nonblank, non_empty=True), required=True, example="targets: [primary-oncall]"
    ),
    "timeout_minutes": Key(number(maximum=MAX_MINUTES)),
}

_POLICY: Shape = {
    "name": _name("production-critical"),
    "repeat": Key(number(whole=True, maximum=MAX_REPEAT)),
    "ack_timeout_minutes": Key(number(above=True, maximum=MAX_MINUTES)),
    "steps": Key(
        seq(shape(_STEP), non_empty=True),
        required=True,
        example="steps: [{targets: [primary-oncall], timeout_minutes: 5}]",
    ),
}

_GROUP_LABELS = seq(nonblank)


def _group_by(reader: Reader, node: yaml.Node, path: str) -> tuple[str, ...] | None:
    """Labels that group a route's alerts; [] stops grouping a nested route inherits."""
    items: Items | None = _GROUP_LABELS(reader, node, path)
    if items is None:
        return None
    labels: list[str] = []
    for spot, label in items.each():
        if label in labels:
            reader.problems.error(spot, f"label '{label}' is listed twice",
                                  "list each label once")
            continue
        labels.append(label)
    return tuple(labels)


_ROUTE: Shape = {
    "match": Key(text_map()),
    "match_re": Key(text_map(_regex)),
    "urgency": Key(choice("high", "low")),
    "notify": Key(nonblank),
    "channels": Key(seq(choice(*ROUTE_CHANNELS), non_empty=True)),
    "group_by": Key(_group_by),
    "active": Key(shape(_RESTRICTION)),
    "flapping": Key(_flapping),
    "continue": Key(boolean),
    "storm": Key(storm_setting),
    "declare_incident": Key(nonblank),
    "routes": Key(lambda reader, node, path: _nested_routes(reader, node, path)),
}


def _nested_routes(reader: Reader, node: yaml.Node, path: str) -> Items | None:
    # A route's shape holds routes of the same shape, so this reads it late.
    nested = seq(shape(_ROUTE), non_empty=True,
                 empty_fix="list at least one nested route, or remove routes")
    items: Items | None = nested(reader, node, path)
    return items

_INTEGRATION_TYPE = choice(
    "alertmanager",
    "pagerduty",
    "opsgenie",
    "grafana",
    "generic",
)

_INTEGRATION: Shape = {
    "name": _name("prometheus"),
    "type": Key(_INTEGRATION_TYPE, required=True, example="type: alertmanager"),
    "key": Key(_integration_key, required=True, example='key: "${PROM_KEY}"'),
    "service": Key(nonblank),
    "max_body_kib": Key(number(above=True, maximum=MAX_BODY_KIB)),
    "fields": Key(read_field_map),
}

_HEARTBEAT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,98}[A-Za-z0-9._-])?")


def _heartbeat_name(reader: Reader, node: yaml.Node, path: str) -> str | None:
    # The name is part of the ping URL (Opsgenie's names may hold spaces).
    value = reader.string(node, path)
    if value is not None and not _HEARTBEAT_NAME.fullmatch(value):
        reader.error(
            node,
            path,
            f"bad heartbeat name '{value[:100]}': it must be 1 to 100 letters, digits, "
            "spaces and - _ . that start with a letter or digit and do not end with a space",
            "pick a name such as nightly-backup",
        )
        return None
    return value


_HEARTBEAT: Shape = {
    "name": Key(_heartbeat_name, required=True, example="name: nightly-backup"),
    "interval_minutes": Key(
        number(above=True, maximum=MAX_MINUTES), required=True, example="interval_minutes: 60"
    ),
    "grace_minutes": Key(number(maximum=MAX_MINUTES)),
    "service": Key(nonblank),
    "severity": Key(nonblank),
    "key": Key(_integration_key),
}

def _whole_map(value: Convert) -> Convert:
    """A label map that is None when any entry is unusable, never a narrower map."""
    read = text_map(value)

    def convert(reader: Reader, node: yaml.Node, path: str) -> dict[str, str] | None:
        before = len(reader.problems.by_line())
        found: dict[str, str] | None = read(reader, node, path)
        return None if len(reader.problems.by_line()) > before else found

    return convert


_MAINTENANCE: Shape = {
    "name": _name("db-upgrade"),
    "services": Key(seq(nonblank, non_empty=True, empty_fix="name a service, or remove services")),
    "match": Key(_whole_map(text)),
    "match_re": Key(_whole_map(_regex)),
    "start": Key(a_time, required=True, example="start: 2026-03-02T22:00"),
    "end": Key(a_time, required=True, example="end: 2026-03-03T02:00"),
    "reason": Key(text),
}

_SLACK: Shape = {
    "token": Key(nonblank, required=True, example='token: "${SLACK_TOKEN}"'),
    "signing_secret": Key(nonblank),
    "api_url": Key(_url),
    "channel": Key(nonblank),
    "pin_emoji": Key(nonblank),
}

_WEBHOOK: Shape = {
    "secret": Key(nonblank, required=True, example='secret: "${WEBHOOK_SECRET}"'),
    "timeout_seconds": Key(number(above=True)),
    "max_attempts": Key(number(1, whole=True)),
}

def _host(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = nonblank(reader, node, path)
    if value is not None and not re.fullmatch(r"[A-Za-z0-9._:\[\]-]+", value):
        reader.error(node, path, f"'{value}' is not a host name",
                     "write the server's name alone, such as smtp.example.com (no scheme or port)")
        return None
    return value


_ADDRESS = r"[^@\s<>,\"]+@[^@\s<>,\"]+"
# `pager@example.com` or `Tocsin Pager <pager@example.com>`: one address, and a
# name without commas, quotes or line breaks, so it can never become two headers.
_MAIL_FROM = re.compile(rf"{_ADDRESS}|[^<>@,\"\x00-\x1f\x7f]+<{_ADDRESS}>")


def _mail_from(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is not None and not _MAIL_FROM.fullmatch(value.strip()):
        reader.error(node, path, f"'{value}' is not one e-mail address",
                     'write it as pager@example.com or "Tocsin <pager@example.com>"')
        return None
    return None if value is None else value.strip()


def _phone_number(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is not None and e164(value) is None:
        reader.error(node, path, f"'{value}' is not a phone number in E.164 form",
                     'write + then the country code and number, such as "+15550100"')
        return None
    return value


def _account_sid(reader: Reader, node: yaml.Node, path: str) -> str | None:
    # The account id is part of every request's URL, so it must need no escaping.
    value = reader.string(node, path)
    if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        reader.error(node, path, "an account id holds only letters, digits, - and _",
                     "copy the Account SID (AC...) from the provider's console")
        return None
    return value


_TIMEOUT_SECONDS = Key(number(above=True, maximum=300))

_EMAIL: Shape = {
    "host": Key(_host, required=True, example="host: smtp.example.com"),
    "port": Key(number(1, whole=True, maximum=65535)),
    "security": Key(choice("starttls", "tls", "none")),
    "username": Key(nonblank),
    "password": Key(nonblank),
    "from": Key(_mail_from, required=True, example='from: "Tocsin <pager@example.com>"'),
    "timeout_seconds": _TIMEOUT_SECONDS,
}

_TWILIO: Shape = {
    "account_sid": Key(_account_sid, required=True,
                       example='account_sid: "${TWILIO_ACCOUNT_SID}"'),
    "auth_token": Key(nonblank, required=True, example='auth_token: "${TWILIO_AUTH_TOKEN}"'),
    "from": Key(_phone_number, required=True, example='from: "+15550100"'),
    "api_url": Key(_url),
    "status_callback_url": Key(_url),
    "timeout_seconds": _TIMEOUT_SECONDS,
}

# Any PagerDuty Events API v2 endpoint; routing keys are the users' `contacts.pagerduty`.
_PAGERDUTY: Shape = {
    "url": Key(_url),
    "timeout_seconds": _TIMEOUT_SECONDS,
}

_NOTIFICATIONS: Shape = {
    "slack": Key(shape(_SLACK)),
    "webhook": Key(shape(_WEBHOOK)),
    "email": Key(shape(_EMAIL)),
    "twilio": Key(shape(_TWILIO)),
    "pagerduty": Key(shape(_PAGERDUTY)),
    "fallback": Key(_NAMES),
    "templates": Key(message_templates),
    "failover_after_minutes": FAILOVER_AFTER,
    "rate_limits": RATE_LIMITS_KEY,
}

_SELF_MONITORING: Shape = {
    "heartbeat_url": Key(_url),
    "heartbeat_every_minutes": Key(number(above=True, maximum=MAX_MINUTES)),
    "heartbeat_method": Key(choice("get", "post")),
    "max_lag_minutes": Key(number(above=True, maximum=MAX_MINUTES)),
    "timeout_seconds": _TIMEOUT_SECONDS,
}

_API_TOKEN: Shape = {
    "name": _name("ops"),
    "token": Key(nonblank, required=True, example='token: "${TOCSIN_API_TOKEN}"'),
    "user": Key(nonblank),
    "scope": Key(choice("read", "write", "admin")),
}

_SEVERITY: Shape = {
    "name": _name("SEV1"),
    "description": Key(text),
    "target_mttr_minutes": Key(number()),
    "urgency": Key(choice("high", "low")),
    **SEVERITY_KEYS,
}

# Defaults are the DESIGN's: business 08:00-18:00 on weekdays, sleep 22:00-08:00.
_WORKING_HOURS: Shape = {
    "business": Key(time_range),
    "sleep": Key(time_range),
    "days": Key(
        seq(
            weekday,
            non_empty=True,
            empty_fix="list the business days such as [mon, tue, wed, thu, fri], "
            "or remove days for that default",
        )
    ),
}

TOP: Shape = {
    "timezone": Key(zone),
    "public_url": Key(_url),
    "working_hours": Key(shape(_WORKING_HOURS)),
    "users": Key(seq(shape(_USER))),
    "teams": Key(seq(shape(_TEAM))),
    "services": Key(seq(shape(_SERVICE))),
    "schedules": Key(seq(_schedule)),
    "escalation_policies": Key(seq(shape(_POLICY))),
    "routes": Key(seq(shape(_ROUTE))),
    "storm": Key(storm_setting),
    "integrations": Key(seq(shape(_INTEGRATION))),
    "heartbeats": Key(seq(shape(_HEARTBEAT))),
    "maintenance": Key(seq(shape(_MAINTENANCE))),
    "notifications": Key(shape(_NOTIFICATIONS)),
    "api_tokens": Key(seq(shape(_API_TOKEN))),
    "severities": Key(seq(shape(_SEVERITY), non_empty=True)),
    "flapping": Key(_flapping),
    "self_monitoring": Key(shape(_SELF_MONITORING)),
    "incidents": Key(shape(INCIDENTS)),
    "components": Key(seq(shape(COMPONENT))),
    "status_page": Key(shape(STATUS_PAGE)),
    "postmortems": Key(shape(POSTMORTEMS)),
    "action_items": Key(shape(ACTION_ITEMS)),
    "trackers": Key(shape(TRACKERS)),
    "surveys": Key(shape(SURVEYS)),
    "metrics": Key(shape(METRICS)),
}
