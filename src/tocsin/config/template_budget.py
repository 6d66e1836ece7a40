"""The budget every message template renders within, enforced inside Jinja2's sandbox.

A template runs on the engine's sending thread, on data the alert's sender
chose (a label `n=100000`), so its work must stay small whatever the alert
holds. Each render gets a fresh `Budget`, and the sandbox charges it:

- each item a `{% for %}` loop goes through (a number of a range, a label, a
  character) and each call (a macro, a method) cost one step: at most
  LOOP_LIMIT in the whole render, however the loops nest; `range()` itself
  gives at most LOOP_LIMIT numbers;
- a filter costs the size of what it goes through (a 300-character title, 300):
  at most WORK_LIMIT in the whole render;
- a text a template builds (`~`, `+`, `*`, `replace`, `join`, `indent`,
  `wordwrap`, `format`, `center`, a string method) is at most TEXT_LIMIT
  characters, and so is everything it prints in all; a repetition with `*`
  gives at most REPEAT_LIMIT characters or items, and a number at most
  NUMBER_BITS bits (`**` with an exponent of at most POWER_LIMIT);
- a `recursive` loop is refused when the template is read.

Not counted: reading an attribute or a label, and the work of a filter
beyond its input's size (a filter's own work is linear in it, or n log n for
`sort`), so per step the work stays small. Going past any limit raises
`TemplateBudgetError` inside the render, so the caller's own failure path
(an error at check time, the built-in text on a page) takes over.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from string import Formatter
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

LOOP_LIMIT = 10_000
WORK_LIMIT = 1_000_000
TEXT_LIMIT = 100_000
REPEAT_LIMIT = 10_000
NUMBER_BITS = 4096
POWER_LIMIT = 100

BUDGET_FIX = (f"keep loops under {LOOP_LIMIT:,} iterations in all (nested loops multiply), "
              f"texts under {TEXT_LIMIT:,} characters and repetitions (*) under "
              f"{REPEAT_LIMIT:,}; a page template should print a few lines")


class TemplateBudgetError(SecurityError):
    """A render went past its budget; the message says which limit."""


class RecursiveLoopError(TemplateSyntaxError):
    """`{% for ... recursive %}`: its inner loops would escape the count."""


@dataclass
class Budget:
    steps: int = 0
    work: int = 0
    printed: int = 0


_CURRENT: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


def _step() -> None:
    budget = _CURRENT.get()
    if budget is None:  # Jinja folding constants while compiling: nothing is charged then
        return
    budget.steps += 1
    if budget.steps > LOOP_LIMIT:
        raise TemplateBudgetError(f"more than {LOOP_LIMIT:,} loop iterations and calls "
                                  "in one render")


def _work(value: object) -> None:
    budget = _CURRENT.get()
    if budget is None:
        return
    budget.work += len(value) if isinstance(value, (str, bytes, list, tuple, dict, range)) else 1
    if budget.work > WORK_LIMIT:
        raise TemplateBudgetError(f"filters went through more than {WORK_LIMIT:,} characters "
                                  "or items in one render")


def _printed(size: int) -> None:
    budget = _CURRENT.get()
    if budget is None:
        return
    budget.printed += size
    if budget.printed > TEXT_LIMIT:
        raise TemplateBudgetError(f"prints more than {TEXT_LIMIT:,} characters")


def _fits(size: int, what: str) -> None:
    if size > TEXT_LIMIT:
        raise TemplateBudgetError(f"{what} would be {size:,} characters or items, more than "
                                  f"{TEXT_LIMIT:,}")


def _sized(result: object, what: str) -> object:
    if isinstance(result, (str, bytes, list, tuple)):
        _fits(len(result), what)
    return result


# Texts and numbers that grow by an argument.


def _number(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    if value > TEXT_LIMIT:
        raise TemplateBudgetError(f"{what} of {value:,} is more than {TEXT_LIMIT:,}")
    return value


def _text_length(value: object) -> int:
    return len(value) if isinstance(value, (str, bytes)) else len(str(value))


def _joined_size(items: Iterable[object], separator: object) -> int:
    parts = list(items)
    return sum(_text_length(part) for part in parts) + _text_length(separator) * len(parts)


def _replaced_size(text: object, old: object, new: object) -> int:
    source, old_text, new_text = str(text), str(old), str(new)
    found = source.count(old_text) if old_text else len(source) + 1
    return len(source) + found * max(len(new_text) - len(old_text), 0)


_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(pattern: object) -> None:
    """`"%9999999d" % 1` and the `format` filter: no width past TEXT_LIMIT."""
    for found in _FORMAT_WIDTH.finditer(str(pattern)):
        for number in found.groups():
            if number == "*":
                raise TemplateBudgetError("a width taken from an argument (%*) is not allowed")
            if number is not None:
                _number(int(number), "a format width")


def _check_brace_format(pattern: str) -> None:
    """`"{:>9999999}".format(1)`: no width past TEXT_LIMIT, and none taken from an argument."""
    for _, _, spec, _ in Formatter().parse(pattern):
        if not spec:
            continue
        if "{" in spec:
            raise TemplateBudgetError("a width taken from an argument ({:{w}}) is not allowed")
        for number in re.findall(r"\d+", spec):
            _number(int(number), "a format width")


def _repeat(left: object, right: object) -> object:
    count, sequence = (right, left) if isinstance(left, (str, list, tuple)) else (left, right)
    if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
        size = len(sequence) * max(count, 0)
        if size > REPEAT_LIMIT:
            raise TemplateBudgetError(f"repeats to {size:,} characters or items, more than "
                                      f"{REPEAT_LIMIT:,}")
    elif isinstance(left, int) and isinstance(right, int):
        _bits(left.bit_length() + right.bit_length())
    return left * right  # type: ignore[operator]


def _power(base: object, exponent: object) -> object:
    if isinstance(exponent, (int, float)) and exponent > POWER_LIMIT:
        raise TemplateBudgetError(f"an exponent of {exponent} is more than {POWER_LIMIT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        _bits(base.bit_length() * exponent)
    return base ** exponent  # type: ignore[operator]


def _bits(size: int) -> None:
    if size > NUMBER_BITS:
        raise TemplateBudgetError(f"a number of more than {NUMBER_BITS:,} bits")


def _add(left: object, right: object) -> object:
    if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        _fits(len(left) + len(right), "a sum")
    return left + right  # type: ignore[operator]


def _modulo(left: object, right: object) -> object:
    if isinstance(left, str):
        _check_percent_format(left)
    return left % right  # type: ignore[operator]


_BINOPS: Mapping[str, Callable[[object, object], object]] = {
    "*": _repeat, "**": _power, "+": _add, "%": _modulo}


# Filters: each charged the size of its input; those that grow by an argument checked first.


def _filter_checks() -> dict[str, Callable[[inspect.BoundArguments], None]]:
    def center(bound: inspect.BoundArguments) -> None:
        _number(bound.arguments.get("width", 80), "a width")

    def indent(bound: inspect.BoundArguments) -> None:
        width = bound.arguments.get("width", 4)
        pad = len(width) if isinstance(width, str) else _number(width, "an indent")
        text = str(bound.arguments["s"])
        _fits(len(text) + pad * (text.count("\n") + 1), "the indented text")

    def format_(bound: inspect.BoundArguments) -> None:
        _check_percent_format(bound.arguments["value"])

    def wordwrap(bound: inspect.BoundArguments) -> None:
        text = str(bound.arguments["s"])
        wrap = bound.arguments.get("wrapstring") or "\n"
        _fits(len(text) * (1 + len(str(wrap))), "the wrapped text")

    def replace(bound: inspect.BoundArguments) -> None:
        arguments = bound.arguments
        _fits(_replaced_size(arguments["s"], arguments["old"], arguments["new"]),
              "the replaced text")

    def join(bound: inspect.BoundArguments) -> None:
        # Items made on the fly (`| map(...)`) are gathered first, to be measured.
        items = bound.arguments["value"] = _gathered(bound.arguments["value"])
        if bound.arguments.get("attribute") is None \
                and isinstance(items, (list, tuple, str, range)):
            _fits(_joined_size(items, bound.arguments.get("d", "")), "the joined text")

    def urlize(bound: inspect.BoundArguments) -> None:
        extra = sum(_text_length(bound.arguments.get(name) or "")
                    for name in ("rel", "target", "extra_schemes"))
        _fits(_text_length(bound.arguments["value"]) * (1 + extra), "the linked text")

    def truncate(bound: inspect.BoundArguments) -> None:
        _fits(_text_length(bound.arguments.get("end", "...")), "the end of a truncated text")

    def sum_(bound: inspect.BoundArguments) -> None:
        value = bound.arguments["iterable"]
        if isinstance(value, (list, tuple)):
            _fits(sum(len(item) if isinstance(item, (str, list, tuple)) else 1
                      for item in value), "the sum")

    return {"center": center, "indent": indent, "format": format_, "wordwrap": wordwrap,
            "replace": replace, "join": join, "urlize": urlize, "truncate": truncate,
            "sum": sum_}


_FILTER_CHECKS = _filter_checks()


def _budgeted_filter(name: str, run: Callable[..., Any]) -> Callable[..., Any]:
    # A filter marked pass_context / pass_environment / pass_eval_context gets that first.
    passes = getattr(run, "jinja_pass_arg", None) is not None
    check = _FILTER_CHECKS.get(name)
    signature = inspect.signature(run) if check is not None else None

    @wraps(run)
    def budgeted(*args: Any, **kwargs: Any) -> Any:
        _work(args[1] if passes else args[0])
        if check is not None and signature is not None:
            bound = signature.bind(*args, **kwargs)
            check(bound)
            args, kwargs = bound.args, bound.kwargs
        return _sized(run(*args, **kwargs), f"the result of '{name}'")

    return budgeted


# String methods a template may call (`alert.title.ljust(80)`).


def _gathered(items: object) -> object:
    """An iterator as a list, so its size can be measured before a join; others as they are."""
    if isinstance(items, Iterator):
        gathered = []
        for item in items:
            gathered.append(item)
            _fits(len(gathered), "a joined list")
        return gathered
    return items


def _check_method(method: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, (str, bytes)) or not args:
        return args
    name = getattr(method, "__name__", "")
    if name in ("center", "ljust", "rjust", "zfill"):
        _number(args[0], "a width")
    elif name == "expandtabs":
        tab = _number(args[0], "a tab size")
        tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
        _fits(len(owner) + tab * tabs, "the expanded text")
    elif name == "replace" and len(args) >= 2:
        _fits(_replaced_size(owner, args[0], args[1]), "the replaced text")
    elif name == "join":
        items = _gathered(args[0])
        if isinstance(items, (list, tuple, str, range)):
            _fits(_joined_size(items, owner), "the joined text")
        return (items, *args[1:])
    elif name == "translate":
        table = args[0]
        longest = max((_text_length(v) for v in table.values()), default=1) \
            if isinstance(table, dict) else 1
        _fits(len(owner) * longest, "the translated text")
    return args


# Loops: counted per item; `recursive` refused.


class _LoopCounter(Extension):
    """Gives the compiled template `counted`, which every `{% for %}` iterates through."""

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            _step()
            yield item

    def joined(self, *parts: object) -> str:
        texts = [str(part) for part in parts]
        _fits(sum(len(text) for text in texts), "a joined text (~)")
        return "".join(texts)


class _Budgeting(NodeTransformer):
    def __init__(self, counter: _LoopCounter) -> None:
        self.counter = counter

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise RecursiveLoopError("a recursive loop is not allowed in a page template",
                                     node.lineno)
        self.generic_visit(node)
        loop_over = node.iter
        assert isinstance(loop_over, nodes.Expr)
        node.iter = self.counter.call_method("counted", [loop_over], lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return self.counter.call_method("joined", node.nodes, lineno=node.lineno)


class _BudgetedTemplate(Template):
    """A template whose every render has its own budget."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        token = _CURRENT.set(Budget())
        try:
            return super().render(*args, **kwargs)
        finally:
            _CURRENT.reset(token)


def _safe_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > LOOP_LIMIT:
        raise TemplateBudgetError(f"range() of {len(numbers):,} numbers is more than "
                                  f"{LOOP_LIMIT:,}")
    return numbers


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, with every render held to the budget above."""

    intercepted_binops = frozenset(_BINOPS)
    template_class = _BudgetedTemplate

    def __init__(self, **options: Any) -> None:
        super().__init__(extensions=[_LoopCounter], **options)
        self.globals["range"] = _safe_range
        self.filters = {name: _budgeted_filter(name, run) for name, run in self.filters.items()}
        self._counter = next(e for e in self.extensions.values()
                             if isinstance(e, _LoopCounter))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        # Jinja's one step between parsing and compiling, for `parse` and `from_string` alike.
        tree = super()._parse(source, name, filename)
        budgeted = _Budgeting(self._counter).visit(tree)
        assert isinstance(budgeted, nodes.Template)
        return budgeted

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return _BINOPS[operator](left, right)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        # The budget's own helpers are free: a loop's items are counted as it goes over them.
        if obj is not _safe_range and getattr(obj, "__self__", None) is not self._counter:
            _step()
        args = _check_method(obj, args)
        return _sized(super().call(context, obj, *args, **kwargs), "the result of a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_brace_format(value.__self__)
        return wrapped

    def concat(self, parts: Iterable[str]) -> str:
        texts = []
        size = 0
        for part in parts:
            size += len(part)
            _fits(size, "the page text")
            texts.append(part)
        return "".join(texts)


def count_printed(value: object) -> object:
    """What `finalize` calls for every printed value: its size is charged."""
    if isinstance(value, str):
        _printed(len(value))
    return value
