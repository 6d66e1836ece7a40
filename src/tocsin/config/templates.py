"""`notifications.templates`: a team's own wording for each channel, in Jinja2.

    notifications:
      templates:
        sms: "{{ alert.severity | upper }} {{ alert.title }}: reply {{ reply.ack }}"
        email_subject: "[{{ alert.service }}] {{ alert.title }} ({{ fired_for }})"

Each key replaces one text (docs/channels.md, "Message templates"); the
structure around it (Slack blocks and buttons, the e-mail's HTML part, the
SMS segment, the call's keypad prompt) stays Tocsin's. Templates run in
Jinja2's immutable sandbox with `StrictUndefined`, so a misspelt name fails
instead of printing nothing, and every render within the budget of
config.template_budget, so a label cannot make a template loop for minutes.

The variables a template sees are built here, by `template_context`, both for
the sample page `tocsin check` renders and for every real page
(notify.templates), so what check accepts is what a page gets. docs/channels.md
lists them, and a test holds that list to this code.

Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import yaml
from jinja2 import (
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    nodes,
)

from tocsin.config.model import MessageTemplates
from tocsin.config.schema import Convert, Key, Reader, Shape, Spot, closest, line_of
from tocsin.config.sms_segments import GSM7_LIMIT, UCS2_LIMIT, fits_one_segment, is_gsm7, units
from tocsin.config.template_budget import (
    BUDGET_FIX,
    BudgetedSandbox,
    RecursiveLoopError,
    TemplateBudgetError,
    count_printed,
)

# The keys of `notifications.templates`, each the name of the text it replaces.
TEMPLATE_NAMES: tuple[str, ...] = ("slack", "sms", "voice", "email_subject", "email_body")

_DOCS = 'docs/channels.md, "Message templates"'
_SYNTAX_FIX = "close every {{ with }}, and every {% if %} or {% for %} with its {% end... %}"


class PageFacts(Protocol):
    """What a template may show of a page; `notify.base.Page` has all of it."""

    @property
    def alert_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def source_url(self) -> str | None: ...
    @property
    def runbook_url(self) -> str | None: ...
    @property
    def triggered_at(self) -> datetime: ...
    @property
    def step(self) -> int: ...
    @property
    def ack_url(self) -> str | None: ...
    @property
    def user_id(self) -> str: ...
    @property
    def user_name(self) -> str: ...


def template_context(page: PageFacts, now: datetime) -> dict[str, Any]:
    """The variables of every template: the alert, the person, and how to answer.

    A fact the page lacks (a direct page has no severity) is an empty text, so it
    prints as nothing through any filter and is false in `{% if %}`.
    """
    return {
        "alert": {
            "id": page.alert_id,
            "title": page.title,
            "severity": _text(page.severity),
            "service": _text(page.service),
            "status": page.status,
            "description": _text(page.description),
            "labels": page.labels,
            "source_url": _text(page.source_url),
            "runbook_url": _text(page.runbook_url),
            "triggered_at": f"{_utc(page.triggered_at):%Y-%m-%dT%H:%M:%SZ}",
        },
        "fired_for": fired_for(page.triggered_at, now),
        "ack_url": _text(page.ack_url),
        "step": page.step,
        "user": {"id": page.user_id, "name": page.user_name},
        # The text replies web.twilio_inbound reads from the person's own number.
        "reply": {"ack": f"ACK {page.alert_id}", "resolve": f"RES {page.alert_id}"},
    }


def _text(value: str | None) -> str:
    return "" if value is None else value


def fired_for(since: datetime, now: datetime) -> str:
    """How long an alert has fired, short: `under 1 min`, `12 min`, `2 h 5 min`, `3 d 4 h`."""
    minutes = int(max(now - _utc(since), timedelta(0)).total_seconds() // 60)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive values; they are UTC (see tocsin.db).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def variable_names(context: Mapping[str, Any]) -> tuple[str, ...]:
    """`alert.title`, `fired_for`, ...: each namespace's fields and each plain variable."""
    found: list[str] = []
    for name, value in context.items():
        if isinstance(value, dict):
            found += [f"{name}.{field_name}" for field_name in value]
        else:
            found.append(name)
    return tuple(found)


def new_environment(escape: Callable[[str], str] | None = None) -> BudgetedSandbox:
    """The sandbox every template runs in; `escape` applies to values, never to the text.

    A value that is None prints as nothing; what is printed counts against the budget.
    """

    def finalize(value: object) -> object:
        if value is None:
            return ""
        return count_printed(escape(str(value)) if escape is not None else value)

    # trim_blocks / lstrip_blocks: a line holding only {% if %} leaves no blank line.
    return BudgetedSandbox(
        undefined=StrictUndefined, finalize=finalize, autoescape=False,
        trim_blocks=True, lstrip_blocks=True,
    )


# The sample page `tocsin check` renders every template against.


class SampleLabels(dict[str, str]):
    """Labels come from the sender, so check accepts any label name a template reads."""

    def __missing__(self, key: str) -> str:
        return "label-value"


@dataclass(frozen=True)
class _SamplePage:
    alert_id: int = 4821
    title: str = "Payment API 5xx rate above 5%"
    severity: str | None = "critical"
    service: str | None = "payment"
    status: str = "triggered"
    description: str | None = "Error rate above 5% for 5 minutes on payment-api"
    labels: Mapping[str, str] = field(default_factory=lambda: SampleLabels(
        alertname="PaymentErrors", env="prod", region="eu-west-1"))
    source_url: str | None = "https://grafana.example.com/d/payments?orgId=1"
    runbook_url: str | None = "https://wiki.example.com/runbooks/payment-5xx"
    triggered_at: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    step: int = 1
    # As long as a real link to tocsin.example.com: a signed token is about 80 characters.
    ack_url: str | None = ("https://tocsin.example.com/a/eyJhIjo0ODIxLCJ1IjoiYWxpY2VAY29tcGFue"
                           "S5jb20ifQ.aVW5AA.momN39uZjWR039nBgCuUR-SZVCA")
    user_id: str = "alice"
    user_name: str = "Alice Example"


_SAMPLE = _SamplePage()
SAMPLE_CONTEXT = template_context(_SAMPLE, _SAMPLE.triggered_at + timedelta(minutes=12))
TEMPLATE_VARIABLES = variable_names(SAMPLE_CONTEXT)
_NAMESPACES = {name: frozenset(value) for name, value in SAMPLE_CONTEXT.items()
               if isinstance(value, dict)}


# Checking a template.


@dataclass(frozen=True)
class TemplateProblem:
    severity: Literal["error", "warning"]
    message: str
    fix: str


def sms_text(rendered: str) -> str:
    """What of an SMS template's output is sent (before it is fitted into one segment)."""
    return rendered.strip()


def template_problems(name: str, source: str) -> list[TemplateProblem]:
    """What is wrong with the template `name`: syntax, unknown names, a sample that fails."""
    environment = new_environment()
    try:
        tree = environment.parse(source)
    except RecursiveLoopError as exc:
        return [TemplateProblem("error", f"{exc.message} (its line {exc.lineno})",
                                "loop over the labels once, without 'recursive'")]
    except TemplateSyntaxError as exc:
        return [TemplateProblem("error", f"template syntax error on its line {exc.lineno}: "
                                         f"{exc.message}", _SYNTAX_FIX)]

    # Before the names: Jinja's own analysis of the names stops at an unknown filter.
    unknown = _unknown_filters_and_tests(environment, tree) \
        or [_unknown(word) for word in _unknown_names(tree)]
    if unknown:
        return unknown

    try:
        template = environment.from_string(source)
    except TemplateSyntaxError as exc:  # found while compiling: Jinja's own assertions
        return [TemplateProblem("error", f"template error on its line {exc.lineno}: "
                                         f"{exc.message}", _SYNTAX_FIX)]
    except TemplateError as exc:
        return [TemplateProblem("error", f"template error: {exc.message}",
                                "fix the template, or remove the key to keep the built-in text")]

    try:
        rendered = template.render(SAMPLE_CONTEXT)
    except TemplateBudgetError as exc:
        return [TemplateProblem("error", f"goes past the render budget on a sample page"
                                         f"{_on_line(exc)}: {exc}", BUDGET_FIX)]
    except UndefinedError as exc:
        return [TemplateProblem("error", f"fails on a sample page{_on_line(exc)}: {exc.message}",
                                f"name only the variables listed in {_DOCS}")]
    except Exception as exc:  # a filter or an operation may raise anything; say which
        return [TemplateProblem("error", f"fails on a sample page{_on_line(exc)}: "
                                         f"{type(exc).__name__}: {exc}",
                                "fix the expression, or remove the key to keep the built-in text")]
    return _sample_problems(name, rendered)


def _on_line(exc: BaseException) -> str:
    """` on its line N` when the traceback reaches the template's own code, else nothing."""
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return "" if line is None else f" on its line {line}"


def _unknown_filters_and_tests(environment: BudgetedSandbox,
                               tree: nodes.Template) -> list[TemplateProblem]:
    """`| uper` or `is evn`: each name Jinja has no filter or test for, with the nearest."""
    found: list[TemplateProblem] = []
    kinds = ((nodes.Filter, "filter", environment.filters), (nodes.Test, "test", environment.tests))
    for node_type, kind, known in kinds:
        seen: set[str] = set()
        for node in tree.find_all(node_type):
            if node.name in known or node.name in seen:
                continue
            seen.add(node.name)
            near = closest(node.name, [word for word in known if word.isidentifier()])
            choices = ([near] if near else []) + sorted(
                word for word in known if word.isidentifier() and word != near)
            found.append(TemplateProblem(
                "error", f"no {kind} named '{node.name}' (on its line {node.lineno})",
                f"use one of: {', '.join(choices)}"))
    return found


# Jinja's own globals (range, dict, namespace...) are names a template may read too.
_GLOBALS = frozenset(new_environment().globals)


def _unknown_names(tree: nodes.Template) -> Iterator[str]:
    """Names the template reads that are no variable, each once, in the template's order."""
    free = meta.find_undeclared_variables(tree)
    seen: set[str] = set()
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        word = _name_of(node, free)
        if word is not None and word not in seen:
            seen.add(word)
            yield word


def _name_of(node: nodes.Node, free: set[str]) -> str | None:
    if isinstance(node, nodes.Name):
        known = node.name in SAMPLE_CONTEXT or node.name in _GLOBALS
        return None if node.ctx != "load" or node.name not in free or known else node.name
    base = getattr(node, "node", None)
    if not isinstance(base, nodes.Name) or base.name not in free or base.name not in _NAMESPACES:
        return None
    if isinstance(node, nodes.Getattr):
        attribute = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
            and isinstance(node.arg.value, str):
        attribute = node.arg.value
    else:
        return None
    return None if attribute in _NAMESPACES[base.name] else f"{base.name}.{attribute}"


def _unknown(word: str) -> TemplateProblem:
    known = ", ".join(TEMPLATE_VARIABLES)
    # `title` is most likely `alert.title`: compare with each variable's last part
    # (within the namespace written, if any).
    space, _, last = word.rpartition(".")
    by_field = {v.rpartition(".")[2]: v for v in reversed(TEMPLATE_VARIABLES)
                if not space or v.startswith(space + ".")}
    near = closest(last, list(by_field))
    suggestion = by_field[near] if near is not None else None
    fix = f"did you mean '{suggestion}'?" if suggestion else f"use a variable listed in {_DOCS}"
    return TemplateProblem("error", f"unknown variable '{word}' (known: {known})", fix)


def _sample_problems(name: str, rendered: str) -> list[TemplateProblem]:
    if not rendered.strip():
        return [TemplateProblem(
            "warning", "renders to nothing on a sample page, and a page whose text is empty "
                       "gets the built-in text instead",
            "make the template print something whatever the alert holds")]
    text = sms_text(rendered)
    if name == "sms" and not fits_one_segment(text):
        size = units(text, is_gsm7(text))  # GSM-7's extension characters count twice
        return [TemplateProblem(
            "warning", f"renders to {size} characters on a sample page, more than one SMS "
                       f"segment ({GSM7_LIMIT} GSM-7 characters, or {UCS2_LIMIT} when any other "
                       "character is in it), so pages are cut to one segment",
            "shorten the template, or leave out ack_url: the reply (reply.ack) is shorter")]
    return []


# The converter `loader` reads the key with.


def message_templates(reader: Reader, node: yaml.Node, path: str) -> MessageTemplates | None:
    """`notifications.templates`: a mapping of TEMPLATE_NAMES to checked templates."""
    fields = reader.shape(node, path, _TEMPLATES)
    if fields is None:
        return None
    return MessageTemplates(**fields.values)


def _template(name: str) -> Convert:
    def convert(reader: Reader, node: yaml.Node, path: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            # `sms: {{ alert.title }}` is a YAML mapping, not text.
            reader.wrong_type(node, path, "a template (text)",
                              f"quote the template ('...'), or write it as a block ({name}: |)")
            return None
        source = reader.string(node, path)
        if source is None:
            return None
        if not source.strip():
            reader.error(node, path, "the template is empty",
                         "write the text, or remove the key to keep the built-in text")
            return None
        spot = Spot(line_of(node), path)
        found = template_problems(name, source)
        for problem in found:
            record = reader.problems.error if problem.severity == "error" \
                else reader.problems.warning
            record(spot, problem.message, problem.fix)
        return None if any(p.severity == "error" for p in found) else source

    return convert


_TEMPLATES: Shape = {name: Key(_template(name)) for name in TEMPLATE_NAMES}
