"""Whatever a file holds, loading it ends in a Config or a ConfigError, never a crash."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.config.loader import ConfigError, load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = yaml.safe_load((EXAMPLES / "tocsin.yaml").read_text("utf-8"))
# The layers example holds what the first one lacks: layers, restrictions, overrides.
LAYERED = yaml.safe_load((EXAMPLES / "layers.yaml").read_text("utf-8"))

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "17:00", "on", "alice", "primary-oncall", "${UNSET}", "a@b.example"]),
    st.sampled_from(["2026-03-08T02:30", "2026-03-02", "9999-12-31T23:59-12:00", "mon"]),
    st.lists(st.sampled_from(["alice", "x", "production-critical"]), max_size=2),
    st.dictionaries(st.sampled_from(["name", "steps", "targets", "x"]), st.just("y"), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            found += _paths(child, (*prefix, key))
    return found


PATHS = _paths(EXAMPLE)
LAYERED_PATHS = _paths(LAYERED)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.tuples(st.sampled_from(PATHS), LEAVES), min_size=1, max_size=3))
def test_a_damaged_example_is_loaded_or_rejected(
    tmp_path: Path, changes: list[tuple[tuple[Any, ...], Any]]
) -> None:
    _load_damaged(tmp_path, EXAMPLE, changes)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.tuples(st.sampled_from(LAYERED_PATHS), LEAVES), min_size=1, max_size=3))
def test_a_damaged_layers_example_is_loaded_or_rejected(
    tmp_path: Path, changes: list[tuple[tuple[Any, ...], Any]]
) -> None:
    _load_damaged(tmp_path, LAYERED, changes)


def _load_damaged(tmp_path: Path, example: Any, changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    document = copy.deepcopy(example)
    for path, leaf in changes:
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = leaf
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    config_file = tmp_path / "tocsin.yaml"
    config_file.write_text(yaml.safe_dump(document), encoding="utf-8")

    try:
        load_config(config_file, env={})
    except ConfigError as error:
        assert error.problems
        assert all(problem.fix for problem in error.problems)
        assert any(problem.severity == "error" for problem in error.problems)
