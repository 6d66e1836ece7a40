"""The file's `postmortems:` section: the Markdown template and the root-cause categories.

    postmortems:
      template: postmortem.md            # relative to this file; default: Tocsin's own
      root_cause_categories: [capacity, deployment, dependency, software bug, unknown]

The template is Jinja2 producing Markdown (docs/postmortems.md lists its
variables). It is read here, when the file is loaded, so `tocsin check`
names a missing file, a syntax error with the template's own line, or a
variable the export does not have, and a running server keeps the text it
validated until the next reload. It is rendered against `SAMPLE_CONTEXT`
too, so a misspelt field of a known variable is found here and not when
someone exports; the export's real context has the same shape (a test holds
the two together).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateError, TemplateSyntaxError, meta, nodes

from tocsin.config.convert import nonblank, seq
from tocsin.config.model import DEFAULT_ROOT_CAUSE_CATEGORIES, PostmortemSettings
from tocsin.config.schema import Fields, Items, Key, Problems, Reader, Shape, Spot
from tocsin.config.template_budget import TemplateBudgetError
from tocsin.config.templates import new_environment

MAX_TEMPLATE_BYTES = 64 * 1024
MAX_CATEGORY = 80  # the column holding a post-mortem's category

# What a template may use; each is described in docs/postmortems.md.
SAMPLE_CONTEXT: dict[str, Any] = {
    "incident": {
        "id": "INC-142", "title": "Checkout failing", "severity": "SEV2",
        "status": "resolved", "commander": "alice", "services": ["payment"],
        "date": "2026-03-02", "started_at": "2026-03-02 02:58 UTC",
        "resolved_at": "2026-03-02 03:40 UTC", "duration": "42m",
        "duration_minutes": 42.0,
    },
    "postmortem": {
        "status": "draft", "title": "Checkout failing", "summary": "Payments failed.",
        "root_cause": "A config change removed the pool limit.",
        "root_cause_category": "configuration change",
        "contributing_factors": "", "went_well": "", "went_badly": "", "lessons": "",
        "due_at": "2026-03-07 03:40 UTC", "published_at": "", "published_by": "",
    },
    "impact": {"users_affected": 300, "estimated_cost": "$1,200", "support_tickets": 12},
    "timeline": [{"at": "2026-03-02 02:58 UTC", "text": "declared"}],
    "whys": [{"number": 1, "why": "Why did checkout fail?", "because": "The pool ran out."}],
    "action_items": [{"title": "Alert on pool use", "owner": "bob", "due_date": "2026-03-20",
                      "priority": "P1", "status": "planned"}],
    "action_items_url": "http://127.0.0.1:8080/ui/action-items",
}
TEMPLATE_VARIABLES = tuple(SAMPLE_CONTEXT)

_SYNTAX_FIX = ("close every {{ with }}, and every {% if %} or {% for %} with its "
               "{% end... %}; see docs/postmortems.md")


def _category(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = nonblank(reader, node, path)
    if value is not None and len(value.strip()) > MAX_CATEGORY:
        reader.error(node, path, f"a category is at most {MAX_CATEGORY} characters",
                     "shorten it")
        return None
    return None if value is None else value.strip()


POSTMORTEMS: Shape = {
    "template": Key(nonblank),
    "root_cause_categories": Key(seq(_category, non_empty=True,
                                     empty_fix="list at least one category, or remove the "
                                               "key for the default list")),
}


def build_postmortems(top: Fields, file: str, problems: Problems) -> PostmortemSettings:
    entry: Fields | None = top.get("postmortems")
    if entry is None:
        return PostmortemSettings()
    categories = _categories(entry.get("root_cause_categories"), problems)
    path = entry.get("template")
    if path is None:
        return PostmortemSettings(root_cause_categories=categories)
    where = (Path(file).parent / path).resolve()
    source = _read(where, entry.at("template"), problems)
    if source is not None and template_problem(source, entry.at("template"), problems):
        source = None
    return PostmortemSettings(template_path=str(where), template=source,
                              root_cause_categories=categories)


def _categories(items: Items | None, problems: Problems) -> tuple[str, ...]:
    if items is None:
        return DEFAULT_ROOT_CAUSE_CATEGORIES
    found: dict[str, str] = {}
    for spot, name in items.each():
        if name.casefold() in found:
            problems.error(spot, f"duplicate category '{name}' (names ignore case)",
                           "list each category once")
            continue
        found[name.casefold()] = name
    return tuple(found.values())


def _read(where: Path, spot: Spot, problems: Problems) -> str | None:
    try:
        raw = where.read_bytes()
    except OSError as exc:
        problems.error(spot, f"cannot read the template {where}: {exc.strerror or exc}",
                       "give a path relative to this file, or remove the key for the default")
        return None
    if len(raw) > MAX_TEMPLATE_BYTES:
        problems.error(spot, f"the template {where} is over {MAX_TEMPLATE_BYTES // 1024} KiB",
                       "a post-mortem template is a page of Markdown; shorten it")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.error(spot, f"the template {where} is not UTF-8 text", "save it as UTF-8")
        return None


def _unknown_fields(tree: nodes.Template) -> list[tuple[int, str, str]]:
    """`postmortem.summry` and alike: (line, variable, field) for each field a known
    variable does not have."""
    found = set()
    # A name the template assigns itself ({% set %}, a loop variable) is not checked.
    assigned = {name.name for name in tree.find_all(nodes.Name) if name.ctx != "load"}
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name not in assigned:
            sample = SAMPLE_CONTEXT.get(node.node.name)
            if isinstance(sample, dict) and node.attr not in sample:
                found.add((node.lineno, node.node.name, node.attr))
    return sorted(found)


def template_problem(source: str, spot: Spot, problems: Problems) -> bool:
    """Report what is wrong with a template's text; whether anything was."""
    environment = new_environment()
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as exc:
        problems.error(spot, f"template line {exc.lineno}: {exc.message}", _SYNTAX_FIX)
        return True
    unknown = sorted(meta.find_undeclared_variables(tree) - set(TEMPLATE_VARIABLES))
    for name in unknown:  # each one named, with the template lines that use it
        lines = sorted({node.lineno for node in tree.find_all(nodes.Name)
                        if node.name == name and node.ctx == "load"})
        where = ", ".join(str(line) for line in lines)
        problems.error(spot, f"template line{'s' if len(lines) > 1 else ''} {where}: unknown "
                             f"variable {name!r}",
                       f"use {', '.join(TEMPLATE_VARIABLES)} (docs/postmortems.md)")
    misspelt = _unknown_fields(tree)
    for line, name, attr in misspelt:
        fields = ", ".join(SAMPLE_CONTEXT[name])
        problems.error(spot, f"template line {line}: {name} has no field {attr!r}",
                       f"use one of {fields} (docs/postmortems.md)")
    if unknown or misspelt:
        return True
    try:
        environment.from_string(source).render(SAMPLE_CONTEXT)
    except TemplateBudgetError as exc:
        problems.error(spot, f"the template goes past its budget on a sample post-mortem: "
                             f"{exc}",
                       "shorten what the template prints: fewer or shorter loops and "
                       "repeated text; a post-mortem template prints a page of Markdown")
        return True
    except TemplateError as exc:
        problems.error(spot, f"the template fails on a sample post-mortem: {exc}",
                       "check the field names against docs/postmortems.md")
        return True
    return False
