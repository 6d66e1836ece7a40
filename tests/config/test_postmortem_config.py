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
        "16: postmortems.template: the template uses unknown variable(s) owner"]
    assert _lines(tmp_path, "postmortems:\n  template: b.md\n") == [
        "16: postmortems.template: the template fails on a sample post-mortem: 'dict object' "
        "has no attribute 'sevrity'"]


def test_categories_are_named_once_and_not_empty(tmp_path: Path) -> None:
    assert _lines(tmp_path, "postmortems:\n  root_cause_categories: [Capacity, capacity]\n") == [
        "16: postmortems.root_cause_categories[1]: duplicate category 'capacity' "
        "(names ignore case)"]
    assert _lines(tmp_path, "postmortems:\n  root_cause_categories: []\n") == [
        "16: postmortems.root_cause_categories: the list is empty"]
