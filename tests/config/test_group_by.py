"""`group_by` on routes: read, inherited by nested routes, and its mistakes named."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, only_error

TREE = BASE.replace(
    "routes:\n  - notify: critical\n",
    """\
routes:
  - match: {service: payment}
    notify: critical
    group_by: [alertname, severity]
    routes:
      - match: {team: db}
      - match: {team: web}
        group_by: [instance]
      - match: {team: batch}
        group_by: []
  - notify: critical
""",
)


def test_group_by_is_read_and_nested_routes_inherit_it(tmp_path: Path) -> None:
    config, _ = load(tmp_path, TREE)

    payments = config.routes[0]
    db, web, batch = payments.routes
    assert payments.group_by == ("alertname", "severity")
    assert db.group_by == ("alertname", "severity")  # inherited
    assert web.group_by == ("instance",)  # its own
    assert batch.group_by == ()  # an empty list stops the grouping it would inherit
    assert config.routes[1].group_by == ()  # no group_by: alerts page one by one


def test_a_label_listed_twice_is_named_with_its_line(tmp_path: Path) -> None:
    text = TREE.replace("group_by: [instance]", "group_by: [instance, instance]")
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].routes[1].group_by[1]"
    assert problem.line == line_of(text, "[instance, instance]")
    assert problem.message == "label 'instance' is listed twice"
    assert problem.fix == "list each label once"


def test_group_by_must_be_a_list_of_label_names(tmp_path: Path) -> None:
    text = TREE.replace("group_by: [alertname, severity]", "group_by: alertname")
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].group_by"
    assert problem.message == "wrong type: expected a list, got 'alertname'"
    assert problem.fix == "write it as a list: [alertname]"


def test_blank_and_nested_labels_are_errors(tmp_path: Path) -> None:
    text = TREE.replace("group_by: [alertname, severity]", 'group_by: ["", {a: b}, service]')
    found = {(p.path, p.message, p.fix) for p in errors(tmp_path, text)}

    assert found == {
        ("routes[0].group_by[0]", "must not be empty", "write a value, or remove the key"),
        ("routes[0].group_by[1]", "wrong type: expected a single value, got a mapping",
         "write one value, not a list or mapping"),
    }


def test_group_by_is_no_longer_refused_as_not_built(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, BASE.replace(
        "- notify: critical", "- notify: critical\n    group_by: [service]"))

    assert config.routes[0].group_by == ("service",)
    assert not [w for w in warnings if "group_by" in w.path]
