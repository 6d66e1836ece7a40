"""A schedule is one rotation at its top, or `layers` of them; never both."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error, warnings_at
from tocsin.config.model import Layer

TOP_LEVEL = "    rotation: weekly\n    participants: [alice, bob]\n"


def layered(layers: str) -> str:
    """BASE with its schedule's rotation keys replaced by `layers` (indented 4)."""
    return BASE.replace(TOP_LEVEL, "    layers:\n" + layers)


def test_top_level_rotation_keys_are_one_layer_named_rotation(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)

    assert config.schedules["primary"].layers == (
        Layer(rotation="weekly", participants=("alice", "bob"), name="rotation"),
    )


def test_layers_build_in_order_with_every_rotation_key(tmp_path: Path) -> None:
    text = layered(
        """\
      - name: days
        rotation: weekly
        start_day: tuesday
        start_time: "09:30"
        start_date: 2026-01-06
        participants: [alice, bob@company.com]
      - rotation: daily
        start_time: 22:00
        participants: [erin@company.com]
"""
    )
    config, _ = load(tmp_path, text)

    assert config.schedules["primary"].layers == (
        Layer(
            rotation="weekly",
            participants=("alice", "bob"),
            start_time=time(9, 30),
            start_day="tue",
            start_date=date(2026, 1, 6),
            name="days",
        ),
        Layer(
            rotation="daily",
            participants=("erin@company.com",),
            start_time=time(22, 0),
            name="layer 2",
        ),
    )
    # A bare e-mail in a layer is an implicit user, as at the top.
    assert config.users["erin@company.com"].implicit


def test_unnamed_layers_are_numbered_by_position(tmp_path: Path) -> None:
    text = layered(
        "      - {rotation: weekly, participants: [alice]}\n"
        "      - {rotation: daily, participants: [bob]}\n"
    )
    config, _ = load(tmp_path, text)

    assert [layer.name for layer in config.schedules["primary"].layers] == ["layer 1", "layer 2"]


def test_layers_and_top_level_rotation_keys_together_name_both_lines(tmp_path: Path) -> None:
    text = BASE.replace(
        TOP_LEVEL,
        "    rotation: weekly\n"
        "    start_time: '09:00'\n"
        "    layers:\n"
        "      - {rotation: daily, participants: [alice]}\n",
    )
    problem = only_error(tmp_path, text)

    layers, rotation = line_of(text, "layers:"), line_of(text, "rotation: weekly")
    assert (problem.line, problem.path) == (layers, "schedules[0].layers")
    assert problem.message == (
        f"the schedule has both layers (line {layers}) and top-level rotation keys "
        f"(rotation, start_time; line {rotation})"
    )
    assert problem.fix.startswith("use layers or top-level rotation keys, not both")


def test_top_level_restrictions_beside_layers_are_also_both(tmp_path: Path) -> None:
    text = BASE.replace(
        TOP_LEVEL,
        "    layers:\n"
        "      - {rotation: daily, participants: [alice]}\n"
        "    restrictions: [{from: '09:00', to: '17:00'}]\n",
    )
    problem = only_error(tmp_path, text)

    assert problem.path == "schedules[0].layers"
    assert "(restrictions; line " in problem.message


def test_top_level_restrictions_beside_layers_are_still_checked(tmp_path: Path) -> None:
    text = BASE.replace(
        TOP_LEVEL,
        "    layers:\n"
        "      - {rotation: daily, participants: [alice]}\n"
        "    restrictions: [{from: '09:00', to: '09:00'}]\n",
    )

    assert [p.path for p in errors(tmp_path, text)] == [
        "schedules[0].layers",
        "schedules[0].restrictions[0].to",
    ]


def test_with_layers_the_top_level_rotation_keys_are_not_required(tmp_path: Path) -> None:
    text = layered("      - {rotation: daily, participants: [alice]}\n")
    _, warnings = load(tmp_path, text)

    assert warnings == []


def test_an_empty_layers_list_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace(TOP_LEVEL, "    layers: []\n")
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "layers: []"), "schedules[0].layers")
    assert problem.message == "the list is empty"
    assert problem.fix == (
        "list at least one layer, or remove layers and use top-level rotation keys"
    )


def test_layers_with_no_value_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace(TOP_LEVEL, "    layers:\n")
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "layers:"), "schedules[0].layers")
    assert problem.message == "missing value for 'layers'"


def test_a_layer_needs_rotation_and_participants(tmp_path: Path) -> None:
    text = layered("      - name: days\n        start_time: '09:00'\n")
    found = errors(tmp_path, text)

    assert [(p.line, p.path, p.message) for p in found] == [
        (
            line_of(text, "name: days"),
            "schedules[0].layers[0].rotation",
            "missing required key 'rotation'",
        ),
        (
            line_of(text, "name: days"),
            "schedules[0].layers[0].participants",
            "missing required key 'participants'",
        ),
    ]


def test_duplicate_layer_names_are_an_error_at_the_second(tmp_path: Path) -> None:
    text = layered(
        "      - {name: days, rotation: weekly, participants: [alice]}\n"
        "      - {name: days, rotation: daily, participants: [bob]}\n"
    )
    problem = only_error(tmp_path, text)

    first = line_of(text, "rotation: weekly")
    assert (problem.line, problem.path) == (first + 1, "schedules[0].layers[1].name")
    assert problem.message == f"duplicate layer name 'days': the layer at line {first} has it"
    assert problem.fix == "give each layer of the schedule its own name"


def test_an_explicit_name_may_clash_with_a_default_one(tmp_path: Path) -> None:
    text = layered(
        "      - {name: layer 2, rotation: weekly, participants: [alice]}\n"
        "      - {rotation: daily, participants: [bob]}\n"
    )
    problem = only_error(tmp_path, text)

    assert problem.path == "schedules[0].layers[1]"
    assert problem.message.startswith("duplicate layer name 'layer 2' (its default name")


def test_layer_names_need_only_be_unique_within_a_schedule(tmp_path: Path) -> None:
    text = layered("      - {name: days, rotation: weekly, participants: [alice]}\n").replace(
        "escalation_policies:",
        "  - name: other\n"
        "    layers:\n"
        "      - {name: days, rotation: daily, participants: [bob]}\n"
        "escalation_policies:",
    )
    config, _ = load(tmp_path, text)

    assert config.schedules["other"].layers[0].name == "days"


def test_an_unknown_participant_in_a_layer_names_its_path(tmp_path: Path) -> None:
    text = layered(
        "      - {rotation: weekly, participants: [alice]}\n"
        "      - {rotation: daily, participants: [bob, bobby]}\n"
    )
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "bobby")
    assert problem.path == "schedules[0].layers[1].participants[1]"
    assert problem.message.startswith("unknown user 'bobby'")


def test_an_unknown_key_in_a_layer_suggests_the_right_one(tmp_path: Path) -> None:
    text = layered("      - {rotation: weekly, participents: [alice]}\n")
    found = errors(tmp_path, text)

    unknown = [p for p in found if p.path == "schedules[0].layers[0].participents"]
    assert unknown[0].fix == "did you mean 'participants'?"


def test_start_day_on_a_daily_layer_is_a_warning(tmp_path: Path) -> None:
    text = layered("      - {rotation: daily, start_day: friday, participants: [alice]}\n")
    _, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "schedules[0].layers[0].start_day") == [
        "start_day has no effect on a daily rotation"
    ]


def test_a_misspelt_layers_key_is_unknown_and_the_rotation_still_required(
    tmp_path: Path,
) -> None:
    text = BASE.replace(TOP_LEVEL, "    layer:\n      - {rotation: daily, participants: [a]}\n")
    found = errors(tmp_path, text)

    assert [(p.path, p.fix) for p in found if p.path == "schedules[0].layer"] == [
        ("schedules[0].layer", "did you mean 'layers'?")
    ]
    assert {p.path for p in found} >= {"schedules[0].rotation", "schedules[0].participants"}
