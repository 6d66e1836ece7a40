"""The `postmortems:` section: the team's Markdown template and the root-cause categories."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, load, rejected
from tocsin.config.model import DEFAULT_ROOT_CAUSE_CATEGORIES


def _lines(tmp_path: Path, section: str) -> list[str]:
    return [f"{p.line}: {p.path}: {p.message}" for p in rejected(tmp_path, BASE + section)]


def test_defaults_and_a_template_beside_the_file(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)
    assert config.postmortems.template is None
    assert config.postmortems.root_cause_categories == DEFAULT_ROOT_CAUSE_CATEGORIES
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm.md").write_text("# {{ incident.id }}\n", encoding="utf-8")

    config, _ = load(tmp_path, BASE + """\
postmortems:
  template: docs/pm.md
  root_cause_categories: [capacity, " flaky vendor "]
""")
    assert config.postmortems.template == "# {{ incident.id }}\n"
    assert config.postmortems.template_path == str(tmp_path / "docs" / "pm.md")
    assert config.postmortems.root_cause_categories == ("capacity", "flaky vendor")


def test_a_missing_template_is_named_with_its_line(tmp_path: Path) -> None:
    [problem] = rejected(tmp_path, BASE + "postmortems:\n  template: nowhere.md\n")
    assert (problem.line, problem.path) == (16, "postmortems.template")
    assert problem.message == (f"cannot read the template {tmp_path / 'nowhere.md'}: "
                               "No such file or directory")
    assert "relative to this file" in problem.fix


def test_template_syntax_errors_name_the_templates_own_line(tmp_path: Path) -> None:
    (tmp_path / "pm.md").write_text("# {{ incident.id }}\n\n{% for s in whys %}\n{{ s.why\n",
                                    encoding="utf-8")
    assert _lines(tmp_path, "postmortems:\n  template: pm.md\n") == [
        "16: postmortems.template: template line 4: unexpected end of template, expected "
        "'end of print statement'."]


def test_unknown_variables_and_fields_are_refused_at_check(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("{{ incident.id }} {{ owner }}\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("{{ incident.sevrity }}\n", encoding="utf-8")
    assert _lines(tmp_path, "postmortems:\n  template: a.md\n") == [
        "16: postmortems.template: template line 1: unknown variable 'owner'"]
    assert _lines(tmp_path, "postmortems:\n  template: b.md\n") == [
        "16: postmortems.template: template line 1: incident has no field 'sevrity'"]


def test_every_unknown_name_is_reported_with_its_lines(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "# {{ incident.id }} {{ owner }}\n{% for step in whys %}{{ step.why }}{% endfor %}\n"
        "{{ postmortem.summry }} {{ owner }}\n{{ team }}\n", encoding="utf-8")
    found = rejected(tmp_path, BASE + "postmortems:\n  template: a.md\n")
    assert [p.message for p in found] == [
        "template lines 1, 3: unknown variable 'owner'",
        "template line 4: unknown variable 'team'",
        "template line 3: postmortem has no field 'summry'"]
    assert "use incident, postmortem" in found[0].fix
    assert "summary" in found[2].fix


def test_a_template_printing_too_much_is_told_to_print_less(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("{% for n in range(9000) %}{{ 'x' * 9000 }}{% endfor %}\n",
                                   encoding="utf-8")
    [problem] = rejected(tmp_path, BASE + "postmortems:\n  template: a.md\n")
    assert problem.message.startswith("the template goes past its budget on a sample "
                                      "post-mortem: ")
    assert problem.fix.startswith("shorten what the template prints")


def test_categories_are_named_once_and_not_empty(tmp_path: Path) -> None:
    assert _lines(tmp_path, "postmortems:\n  root_cause_categories: [Capacity, capacity]\n") == [
        "16: postmortems.root_cause_categories[1]: duplicate category 'capacity' "
        "(names ignore case)"]
    assert _lines(tmp_path, "postmortems:\n  root_cause_categories: []\n") == [
        "16: postmortems.root_cause_categories: the list is empty"]
