"""Reading a composed YAML node tree against the shape each section expects.

PyYAML resolves plain scalars by YAML 1.1 rules (`17:00` is 1020, `no` is
false). We never let it: the loader only composes nodes, and every scalar
is converted from its source text by the type its key expects (see
`convert`). Quoted and block scalars are always strings; explicit tags are
ignored, so nothing is ever constructed from the file.

Every problem is collected with its line and dotted path; a reader that
finds one records it, answers None, and the caller carries on.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    path: str
    message: str
    fix: str
    severity: Literal["error", "warning"] = "error"

    def format(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.path}: {prefix}{self.message}; fix: {self.fix}"


@dataclass(frozen=True)
class Spot:
    """Where a value sits: its line (1-based) and dotted path."""

    line: int
    path: str


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self._found: list[Problem] = []

    def error(self, spot: Spot, message: str, fix: str) -> None:
        self._found.append(Problem(self.file, spot.line, spot.path, message, fix, "error"))

    def warning(self, spot: Spot, message: str, fix: str) -> None:
        self._found.append(Problem(self.file, spot.line, spot.path, message, fix, "warning"))

    @property
    def has_errors(self) -> bool:
        return any(problem.severity == "error" for problem in self._found)

    def has_errors_under(self, path: str) -> bool:
        """Whether an error was found at `path` or inside it."""
        return any(problem.severity == "error"
                   and (problem.path == path or problem.path.startswith((path + ".", path + "[")))
                   for problem in self._found)

    def by_line(self) -> list[Problem]:
        # sorted() is stable: problems on one line keep the order they were found in.
        return sorted(self._found, key=lambda problem: problem.line)

    def warnings(self) -> list[Problem]:
        return [problem for problem in self.by_line() if problem.severity == "warning"]


@dataclass
class Fields:
    """A mapping read against its shape.

    `spots` holds every known key that was written, valid or not; `values`
    only the ones that converted cleanly.
    """

    spot: Spot
    values: dict[str, Any] = field(default_factory=dict)
    spots: dict[str, Spot] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def at(self, key: str) -> Spot:
        return self.spots.get(key) or Spot(self.spot.line, join(self.spot.path, key))

    def written(self, key: str) -> bool:
        return key in self.spots


@dataclass
class Items:
    """A list read item by item; items that did not convert are left out."""

    spot: Spot
    values: list[Any] = field(default_factory=list)
    spots: list[Spot] = field(default_factory=list)

    def each(self) -> Iterator[tuple[Spot, Any]]:
        return zip(self.spots, self.values, strict=True)


Convert = Callable[["Reader", yaml.Node, str], Any]


@dataclass(frozen=True)
class Key:
    convert: Convert
    required: bool = False
    example: str = ""  # what to add when a required key is missing


@dataclass(frozen=True)
class NotBuilt:
    """A key from the design that this release recognises but does not act on."""

    what: str  # "overrides are"
    planned: str


Shape = Mapping[str, Key | NotBuilt]

_NO_MERGE = "write the keys out; an alias (*name) of a whole entry still works"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_NULLS = ("", "~", "null", "Null", "NULL")


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.style is None and node.value in _NULLS


def is_quoted(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.style is not None


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = str(node.value)
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f"the string '{shown}'" if is_quoted(node) else f"'{shown}'"


def or_list(words: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def closest(word: str, candidates: list[str]) -> str | None:
    """The candidate nearest to `word`, ignoring case, if any is near enough."""
    folded = {candidate.lower(): candidate for candidate in candidates}
    found = difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=0.6)
    return folded[found[0]] if found else None


class Reader:
    def __init__(self, problems: Problems, env: Mapping[str, str]) -> None:
        self.problems = problems
        self.env = env

    def error(self, node: yaml.Node, path: str, message: str, fix: str) -> None:
        self.problems.error(Spot(line_of(node), path), message, fix)

    def wrong_type(self, node: yaml.Node, path: str, expected: str, fix: str) -> None:
        self.error(node, path, f"wrong type: expected {expected}, got {describe(node)}", fix)

    def string(self, node: yaml.Node, path: str) -> str | None:
        """The scalar's text with ${NAME} variables replaced."""
        if not isinstance(node, yaml.ScalarNode):
            self.wrong_type(node, path, "a single value", "write one value, not a list or mapping")
            return None
        return self._substitute(node, path)

    def _substitute(self, node: yaml.ScalarNode, path: str) -> str | None:
        missing: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = self.env.get(name)
            if value is None or (value == "" and default is not None):
                if default is not None:
                    return default
                missing.append(name)
                return ""
            return value

        text = _VARIABLE.sub(replace, str(node.value))
        for name in missing:
            self.error(
                node,
                path,
                f"unset variable: ${{{name}}} is not set in the environment",
                f"set {name}, or give a default: ${{{name}:-value}}",
            )
        return None if missing else text

    def shape(self, node: yaml.Node, path: str, shape: Shape) -> Fields | None:
        if not isinstance(node, yaml.MappingNode):
            self.wrong_type(node, path, "a mapping of keys", "write key: value pairs under it")
            return None
        fields = Fields(Spot(line_of(node), path))
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, path, seen)
            if key is not None:
                self._read_key(fields, shape, key, key_node, value_node)
        for key, spec in shape.items():
            if isinstance(spec, Key) and spec.required and key not in seen:
                self.problems.error(
                    fields.at(key),
                    f"missing required key '{key}'",
                    f"add {spec.example or key + ': ...'}",
                )
        return fields

    def key(self, node: yaml.Node, path: str, seen: dict[str, int]) -> str | None:
        """A mapping key as written (never substituted), or None when unusable."""
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            where = path or "(top level)"
            self.wrong_type(node, where, "a key name", "write a plain name before the colon")
            return None
        key = str(node.value)
        if key == "<<" and node.style is None:
            # compose() leaves YAML merge keys unmerged; saying so beats "unknown key".
            self.error(node, join(path, key), "merge keys (<<) are not supported", _NO_MERGE)
            return None
        if key in seen:
            self.error(
                node,
                join(path, key),
                f"duplicate key '{key}' (first at line {seen[key]})",
                "keep one of them",
            )
            return None
        seen[key] = line_of(node)
        return key

    def _read_key(
        self,
        fields: Fields,
        shape: Shape,
        key: str,
        key_node: yaml.Node,
        value_node: yaml.Node,
    ) -> None:
        path = join(fields.spot.path, key)
        spec = shape.get(key)
        if spec is None:
            match = closest(key, list(shape))
            fix = f"did you mean '{match}'?" if match else f"use one of: {', '.join(shape)}"
            self.error(key_node, path, f"unknown key '{key}'", fix)
            return
        if isinstance(spec, NotBuilt):
            self.error(
                key_node,
                path,
                f"{spec.what} recognised but not built yet in this release",
                f"remove the key (planned: {spec.planned})",
            )
            return
        fields.spots[key] = Spot(line_of(key_node), path)
        if is_null(value_node):
            if spec.required:
                example = spec.example or f"{key}: ..."
                self.error(value_node, path, f"missing value for '{key}'", f"write {example}")
            return
        value = spec.convert(self, value_node, path)
        if value is not None:
            fields.values[key] = value
