"""The file's `components:` list and `status_page:` section (docs/status-page.md).

A component's name is what customers read and what updates name, so names
are unique ignoring case, and a group may not share a component's name
(the page would show two rows a reader cannot tell apart).
"""

from __future__ import annotations

import re

import yaml

from tocsin.config.convert import boolean, nonblank, number, text, zone
from tocsin.config.model import Component, Service, StatusPageSettings
from tocsin.config.names import listed
from tocsin.config.schema import Fields, Key, Problems, Reader, Shape, closest

MAX_NAME = 200  # stored in a String(200) column of the status history
MAX_VERIFYING_MINUTES = 7 * 24 * 60
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?", re.IGNORECASE)


def _component_name(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = nonblank(reader, node, path)
    if value is not None and len(value) > MAX_NAME:
        reader.error(node, path, f"a component name is at most {MAX_NAME} characters",
                     "shorten the name; put the details in description")
        return None
    return None if value is None else value.strip()


def _host(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = nonblank(reader, node, path)
    if value is not None and not _HOST.fullmatch(value):
        reader.error(node, path, f"'{value}' is not a host name",
                     "write the name the page is reached by, such as status.example.com "
                     "(no scheme, port or path)")
        return None
    return None if value is None else value.lower()


COMPONENT: Shape = {
    "name": Key(_component_name, required=True, example="name: API"),
    "description": Key(text),
    "group": Key(_component_name),
    "public": Key(boolean),
    "service": Key(nonblank),
}

STATUS_PAGE: Shape = {
    "title": Key(nonblank),
    "time_zone": Key(zone),
    "public_host": Key(_host),
    "public_port": Key(number(1, whole=True, maximum=65535)),
    "verifying_minutes": Key(number(0, maximum=MAX_VERIFYING_MINUTES)),
}


def build_components(
    top: Fields, problems: Problems, services: dict[str, Service],
) -> tuple[Component, ...]:
    found: list[Component] = []
    firsts: dict[str, Fields] = {}
    for entry in listed(top, "components"):
        name = entry.get("name")
        if name is None:
            continue
        first = firsts.setdefault(name.casefold(), entry)
        if first is not entry:
            problems.error(entry.at("name"),
                           f"duplicate component name '{name}' (first at line "
                           f"{first.at('name').line}; names are compared ignoring case)",
                           "give each component its own name")
            continue
        service = entry.get("service")
        if service is not None and service not in services:
            match = closest(service, list(services))
            hint = f"did you mean '{match}'?" if match else (
                f"defined: {', '.join(services)}" if services else "none is defined yet")
            problems.error(entry.at("service"), f"unknown service '{service}'",
                           f"define it under services, or use a defined name ({hint})")
        found.append(Component(name=name, description=entry.get("description", ""),
                               group=entry.get("group"), public=entry.get("public", True),
                               service=service))
    _check_groups(firsts, problems)
    return tuple(found)


def _check_groups(components: dict[str, Fields], problems: Problems) -> None:
    for entry in components.values():
        group = entry.get("group")
        if group is None:
            continue
        clash = components.get(group.casefold())
        if clash is not None:
            problems.error(entry.at("group"),
                           f"group '{group}' has the name of the component at line "
                           f"{clash.at('name').line}",
                           "rename the group or the component; a group is not a component")


def build_status_page(top: Fields) -> StatusPageSettings:
    section: Fields | None = top.get("status_page")
    if section is None:
        return StatusPageSettings()
    return StatusPageSettings(
        title=section.get("title", StatusPageSettings.title),
        time_zone=section.get("time_zone"),
        public_host=section.get("public_host"),
        public_port=section.get("public_port"),
        verifying_minutes=section.get("verifying_minutes", 0),
    )
