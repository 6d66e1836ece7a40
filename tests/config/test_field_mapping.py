"""An integration's `fields:` loads as written, and `tocsin check` refuses what can never work."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.config.helpers import BASE, errors, line_of, load, only_error, write
from tocsin.cli.main import app


def _with(integration: str) -> str:
    return BASE + "integrations:\n" + integration


MAPPED = _with("""\
  - name: prom
    type: alertmanager
    key: p-key-1
    fields:
      service: [labels.app, labels.service]
      runbook_url: annotations.runbook
      title: annotations.summary
      severity: 'labels."prio.level"'
  - {name: pd, type: pagerduty, key: d-key-1, fields: {source_url: links.1.href}}
  - {name: og, type: opsgenie, key: o-key-1, fields: {service: details.team}}
  - {name: gf, type: grafana, key: g-key-1, fields: {description: commonAnnotations.about}}
  - {name: gen, type: generic, key: s-key-1, fields: {service: details.app.name}}
""")


def test_mapped_fields_load_in_the_order_written(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, MAPPED)

    prom, pd, og, gf, gen = config.integrations
    assert dict(prom.fields) == {
        "service": ("labels.app", "labels.service"),
        "runbook_url": ("annotations.runbook",),
        "title": ("annotations.summary",),
        "severity": ('labels."prio.level"',),
    }
    assert dict(pd.fields) == {"source_url": ("links.1.href",)}
    assert dict(og.fields) == {"service": ("details.team",)}
    assert dict(gf.fields) == {"description": ("commonAnnotations.about",)}
    assert dict(gen.fields) == {"service": ("details.app.name",)}
    assert warnings == []


def test_an_integration_without_fields_maps_nothing(tmp_path: Path) -> None:
    config, _ = load(tmp_path, _with("  - {name: prom, type: alertmanager, key: p-key-1}\n"))

    assert config.integrations[0].fields == ()


def test_an_unknown_tocsin_field_is_refused_with_the_nearest_one(tmp_path: Path) -> None:
    text = _with("""\
  - name: prom
    type: alertmanager
    key: p-key-1
    fields: {runbook: annotations.runbook}
""")
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "runbook:"),
                                            "integrations[0].fields.runbook")
    assert problem.message == "unknown field 'runbook'"
    assert problem.fix.startswith("did you mean 'runbook_url'? map one of title, description,")


def test_the_dedup_key_cannot_be_mapped_and_the_error_says_why(tmp_path: Path) -> None:
    text = _with("""\
  - name: prom
    type: alertmanager
    key: p-key-1
    fields:
      dedup_key: labels.alertname
""")
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "dedup_key:"),
                                            "integrations[0].fields.dedup_key")
    assert "identity" in problem.message and "merge alerts" in problem.message
    assert "fingerprint" in problem.fix and problem.fix.startswith("remove it")


def test_a_root_the_type_never_sends_is_refused_naming_the_roots(tmp_path: Path) -> None:
    text = _with("""\
  - name: prom
    type: alertmanager
    key: p-key-1
    fields:
      service:
        - labels.app
        - label.service
""")
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, "- label.service"),
                                            "integrations[0].fields.service[1]")
    assert problem.message == ("'label.service' starts with 'label', which alertmanager "
                               "integrations never send")
    assert problem.fix.startswith("did you mean 'labels'? start the path with one of status, "
                                  "labels, annotations,")


@pytest.mark.parametrize(("kind", "path", "says"), [
    ("pagerduty", "labels.service", "pagerduty integrations never send"),
    ("pagerduty", "routing_key", "secret key and is never copied"),
    ("opsgenie", "annotations.summary", "opsgenie integrations never send"),
    ("generic", "payload.summary", "generic integrations never send"),
    ("grafana", "custom_details.x", "grafana integrations never send"),
])
def test_each_type_knows_its_own_roots(tmp_path: Path, kind: str, path: str, says: str) -> None:
    text = _with(f"  - {{name: src, type: {kind}, key: k-1, fields: {{title: {path}}}}}\n")
    problem = only_error(tmp_path, text)

    assert problem.path == "integrations[0].fields.title"
    assert says in problem.message


@pytest.mark.parametrize(("path", "says", "fix"), [
    ("labels", "'labels' is a map of values", "write labels.<name>"),
    ("labels.a.b", "'labels' is a map of values", "write labels.<name>"),
    ("generatorURL.host", "'generatorURL' is a single value", "write just generatorURL"),
    ("labels..app", "'labels..app' is not a path", "keys joined by dots"),
    (".labels.app", "'.labels.app' is not a path", "keys joined by dots"),
    ('labels."app', "is not a path", 'labels."app.kubernetes.io/name"'),
])
def test_a_path_that_can_never_hold_a_value_is_refused(
    tmp_path: Path, path: str, says: str, fix: str,
) -> None:
    text = _with(f"  - {{name: prom, type: alertmanager, key: p-1, fields: {{title: '{path}'}}}}\n")
    problem = only_error(tmp_path, text)

    assert says in problem.message
    assert fix in problem.fix


@pytest.mark.parametrize(("fields", "says"), [
    ("{title: []}", "the list is empty"),
    ("{title: }", "missing value"),
    ("{title: {a: b}}", "wrong type"),
    ("[title]", "wrong type: expected a mapping"),
])
def test_fields_must_be_paths(tmp_path: Path, fields: str, says: str) -> None:
    text = _with(f"  - {{name: prom, type: alertmanager, key: p-1, fields: {fields}}}\n")
    problem = only_error(tmp_path, text)

    assert problem.path.startswith("integrations[0].fields")
    assert says in problem.message


def test_check_reports_every_bad_field_with_its_line(tmp_path: Path) -> None:
    text = _with("""\
  - name: prom
    type: alertmanager
    key: p-key-1
    fields:
      severty: labels.severity
      service: [lables.app, labels.service]
      dedup_key: fingerprint
""")
    path = write(tmp_path, text)

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if "; fix: " in line]
    assert [line.split(": ")[0:2] for line in lines] == [
        [f"{path}:{line_of(text, 'severty')}", "integrations[0].fields.severty"],
        [f"{path}:{line_of(text, 'lables')}", "integrations[0].fields.service[0]"],
        [f"{path}:{line_of(text, 'dedup_key')}", "integrations[0].fields.dedup_key"],
    ]


def test_a_variable_in_a_path_is_replaced_like_any_string(tmp_path: Path) -> None:
    text = _with("""\
  - {name: prom, type: alertmanager, key: p-1, fields: {service: "labels.${SERVICE_LABEL}"}}
""")
    config, _ = load(tmp_path, text, env={"SERVICE_LABEL": "app"})

    assert dict(config.integrations[0].fields) == {"service": ("labels.app",)}
    assert [p.path for p in errors(tmp_path, text)] == ["integrations[0].fields.service"]
