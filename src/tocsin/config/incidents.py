"""The file's `incidents:` section and the incident keys of severities and routes.

The channel name is a template such as `inc-{year}-{number:04d}`. It is
rendered here, by plain string formatting with a fixed set of
placeholders, and checked against what Slack accepts for a channel name
(lowercase letters, digits, `-` and `_`, at most 80 characters) with a
large incident number, so a name that would be refused is found by
`tocsin check`, not when the first incident is declared. The template
must hold `{number}`, or every incident of a day or a severity would want
the same channel. A severity is slugged when rendered (lowercase, each run
of other characters `-`: "Major Outage!" gives `major-outage-`), and the
check renders the template with every configured severity.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import datetime

import yaml

from tocsin.config.contact_forms import check_slack_channel
from tocsin.config.convert import boolean, nonblank, number, seq, shape, text
from tocsin.config.model import (
    DEFAULT_ROLES,
    SEVERITY_DEFAULTS,
    IncidentRole,
    IncidentSettings,
    Service,
    Severity,
    Stakeholders,
    Target,
    Team,
)
from tocsin.config.names import ANY_TARGET, Kind, Names, listed
from tocsin.config.schema import Fields, Items, Key, Problems, Reader, Shape

PLACEHOLDERS = ("year", "month", "day", "number", "severity")
MAX_CHANNEL = 80
_SLACK_NAME = re.compile(r"[a-z0-9_-]+")
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")
_FORMATTER = string.Formatter()
# A year ahead of any real incident and a number ten million deep: the longest name likely.
_SAMPLE = {"year": 2026, "month": 12, "day": 31, "number": 9_999_999, "severity": "sev1"}
# Days before a required post-mortem is due; more than a quarter is a typo.
MAX_DUE_DAYS = 90
MAX_UPDATE_MINUTES = 7 * 24 * 60

_TEAM: tuple[Kind, ...] = ("team",)
_NOTIFY_KINDS: tuple[Kind, ...] = (*ANY_TARGET, "team")


def render_channel_name(
    template: str, *, number: int, declared_at: datetime, severity: str,
) -> str:
    """The channel name for an incident; `declared_at` in the config's zone."""
    return template.format(year=declared_at.year, month=declared_at.month,
                           day=declared_at.day, number=number, severity=severity_slug(severity))


def severity_slug(severity: str) -> str:
    """A severity as it may appear in a channel name: lowercase, other runs made `-`."""
    return _NOT_SLUG.sub("-", severity.lower())


def channel_name_problem(
    template: str, severities: Iterable[str] = ("SEV1",),
) -> tuple[str, str] | None:
    """(what is wrong, the fix) for a template Slack would refuse; None when it is fine.

    The template is filled in with each of `severities` and a seven-digit number.
    """
    fix = ("write lowercase letters, digits, - and _ with placeholders "
           "{year}, {month}, {day}, {number} and {severity}, e.g. inc-{year}-{number:04d}")
    try:
        fields = [name for _, name, _, _ in _FORMATTER.parse(template) if name is not None]
    except ValueError as exc:
        return f"'{template}' is not a valid template ({exc})", fix
    unknown = [name for name in fields if name not in PLACEHOLDERS]
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}} in '{template}'", fix
    if "number" not in fields:
        return (f"'{template}' has no {{number}}, so incidents would share a channel name",
                "add {number}, e.g. inc-{year}-{number:04d}")
    for severity in severities:
        try:
            sample = template.format(**{**_SAMPLE, "severity": severity_slug(severity)})
        except (ValueError, IndexError, KeyError) as exc:
            return f"'{template}' cannot be filled in ({exc})", fix
        if not _SLACK_NAME.fullmatch(sample):
            return (f"'{template}' gives '{sample}', which Slack refuses as a channel name",
                    fix)
        if len(sample) > MAX_CHANNEL:
            return (f"'{template}' gives names up to {len(sample)} characters (severity "
                    f"{severity}); Slack allows {MAX_CHANNEL}",
                    "shorten the template or the severity's name")
    return None


def _channel_name(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is None:
        return None
    problem = channel_name_problem(value)
    if problem is not None:
        reader.error(node, path, *problem)
        return None
    return value


_NAMES = seq(nonblank)

ROLE: Shape = {
    "name": Key(nonblank, required=True, example="name: Commander"),
    "duty": Key(text, required=True, example="duty: Leads the response"),
}

STAKEHOLDERS: Shape = {
    "services": Key(_NAMES),
    "severities": Key(_NAMES),
    "users": Key(_NAMES),
    "teams": Key(_NAMES),
    "slack_channels": Key(_NAMES),
}

INCIDENTS: Shape = {
    "channel_name": Key(_channel_name),
    "commander_schedule": Key(nonblank),
    "roles": Key(seq(shape(ROLE), non_empty=True,
                     empty_fix="list at least one {name, duty}, or remove roles for the "
                               "default Commander, Communicator, Investigator and Scribe")),
    "stakeholders": Key(seq(shape(STAKEHOLDERS))),
}

# Merged into the loader's severity shape.
SEVERITY_KEYS: Shape = {
    "notify": Key(_NAMES),
    "postmortem_required": Key(boolean),
    "postmortem_due_days": Key(number(above=True, maximum=MAX_DUE_DAYS)),
    "update_every_minutes": Key(number(above=True, maximum=MAX_UPDATE_MINUTES)),
}


def build_severity(entry: Fields, names: Names, teams: dict[str, Team]) -> Severity:
    """A severity from its entry; SEV1 and SEV2 keep their post-mortem and update defaults."""
    fallback = SEVERITY_DEFAULTS.get(str(entry.get("name")).upper(), Severity(""))
    items: Items | None = entry.get("notify")
    notify: list[Target] = []
    for spot, name in items.each() if items is not None else ():
        found = names.resolve(name, spot, _NOTIFY_KINDS, "a severity's notify")
        if found is None:
            continue
        kind, resolved = found
        if kind == "team":
            team = teams.get(resolved)
            notify += [Target("user", member) for member in (team.members if team else ())]
        else:
            notify.append(Target(kind, resolved))
    values = {key: entry.get(key) for key in ("name", "description", "target_mttr_minutes",
                                               "urgency") if entry.written(key)
              and entry.get(key) is not None}
    if "target_mttr_minutes" in values:
        # A float however written, as the defaults and the database hold it: one type
        # across reloads.
        values["target_mttr_minutes"] = float(values["target_mttr_minutes"])
    return Severity(
        **values,
        notify=tuple(dict.fromkeys(notify)),
        postmortem_required=entry.get("postmortem_required", fallback.postmortem_required),
        postmortem_due_days=entry.get("postmortem_due_days", fallback.postmortem_due_days),
        update_every_minutes=entry.get("update_every_minutes", fallback.update_every_minutes),
    )


def build_incidents(
    top: Fields, names: Names, problems: Problems, services: dict[str, Service],
    severities: tuple[Severity, ...],
) -> IncidentSettings:
    entry: Fields | None = top.get("incidents")
    if entry is None:
        return IncidentSettings()
    roles = tuple(IncidentRole(role.get("name"), role.get("duty"))
                  for role in listed(entry, "roles") if role.get("name") and role.get("duty"))
    _check_roles(listed(entry, "roles"), problems)
    schedule = names.ref(entry, "commander_schedule", ("schedule",), "commander_schedule")
    channel_name = entry.get("channel_name", IncidentSettings.channel_name)
    problem = channel_name_problem(channel_name, [s.name for s in severities])
    if entry.get("channel_name") is not None and problem is not None:
        problems.error(entry.at("channel_name"), *problem)
    return IncidentSettings(
        channel_name=channel_name,
        commander_schedule=schedule,
        roles=roles or DEFAULT_ROLES,
        stakeholders=tuple(_stakeholders(item, names, problems, services, severities)
                           for item in listed(entry, "stakeholders")),
    )


def _check_roles(entries: list[Fields], problems: Problems) -> None:
    firsts: dict[str, Fields] = {}
    for role in entries:
        name = role.get("name")
        if name is None:
            continue
        first = firsts.setdefault(name.casefold(), role)
        if first is not role:
            problems.error(role.at("name"),
                           f"duplicate role '{name}': the role at line "
                           f"{first.at('name').line} has it (names ignore case)",
                           "give each role its own name")
    if entries and "commander" not in firsts:
        spot = entries[0].spot
        problems.error(spot, "the roles leave out Commander, which every incident has",
                       "add {name: Commander, duty: ...} to roles")


def _stakeholders(
    entry: Fields, names: Names, problems: Problems, services: dict[str, Service],
    severities: tuple[Severity, ...],
) -> Stakeholders:
    wanted_services: Items | None = entry.get("services")
    for spot, service in wanted_services.each() if wanted_services is not None else ():
        if service not in services:
            problems.error(spot, f"unknown service '{service}'",
                           "name a service defined under services")
    wanted: Items | None = entry.get("severities")
    known = {s.name.casefold(): s.name for s in severities}
    levels: list[str] = []
    for spot, level in wanted.each() if wanted is not None else ():
        if level.casefold() not in known:
            problems.error(spot, f"unknown severity '{level}'",
                           f"use one of {', '.join(known.values())}")
        else:
            levels.append(known[level.casefold()])
    if not any(entry.written(key) for key in ("users", "teams", "slack_channels")):
        problems.error(entry.spot, "these stakeholders name nobody to tell",
                       "add users, teams or slack_channels")
    teams: Items | None = entry.get("teams")
    return Stakeholders(
        services=tuple(wanted_services.values) if wanted_services is not None else (),
        severities=tuple(levels),
        users=names.user_ids(entry.get("users"), "a stakeholder"),
        teams=tuple(name for spot, name in (teams.each() if teams is not None else ())
                    if names.resolve(name, spot, _TEAM, "a stakeholder team") is not None),
        slack_channels=tuple(_slack_channels(entry.get("slack_channels"), problems)),
    )


def _slack_channels(items: Items | None, problems: Problems) -> list[str]:
    channels: list[str] = []
    for spot, channel in items.each() if items is not None else ():
        if check_slack_channel(problems, channel, spot):
            channels.append(channel.strip())
    return channels


def check_declare_severity(
    entry: Fields, severities: tuple[Severity, ...], problems: Problems,
) -> str | None:
    """A route's `declare_incident`, as the severity's own spelling."""
    value = entry.get("declare_incident")
    if value is None:
        return None
    found = next((s.name for s in severities if s.name.casefold() == value.casefold()), None)
    if found is None:
        problems.error(entry.at("declare_incident"), f"unknown severity '{value}'",
                       f"use one of {', '.join(s.name for s in severities)}")
    return found
