"""`notifications.templates` in tocsin.yaml: what `tocsin check` accepts, refuses, warns about."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tests.config.helpers import BASE, errors, line_of, load, only_error, write
from tocsin.cli.main import app
from tocsin.config.model import MessageTemplates
from tocsin.config.templates import TEMPLATE_VARIABLES

VALID = BASE + """\
notifications:
  templates:
    slack: "*{{ alert.title }}* on {{ alert.service }} for {{ fired_for }}"
    sms: "{{ alert.severity | upper }} {{ alert.title }}: reply {{ reply.ack }}"
    voice: "Page for {{ user.name }}: {{ alert.title }}."
    email_subject: "[{{ alert.service }}] {{ alert.title }}"
    email_body: |
      {{ alert.title }} (#{{ alert.id }}, step {{ step }})
      {% if alert.description %}
      {{ alert.description }}
      {% endif %}
      Team: {{ alert.labels.team | default('none') }}
      Acknowledge: {{ ack_url }}
"""


def test_every_template_key_loads_as_written(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, VALID)

    templates = config.notifications.templates
    assert templates.slack == "*{{ alert.title }}* on {{ alert.service }} for {{ fired_for }}"
    assert templates.sms == "{{ alert.severity | upper }} {{ alert.title }}: reply {{ reply.ack }}"
    assert templates.voice == "Page for {{ user.name }}: {{ alert.title }}."
    assert templates.email_subject == "[{{ alert.service }}] {{ alert.title }}"
    assert templates.email_body is not None
    assert templates.email_body.startswith("{{ alert.title }} (#{{ alert.id }}, step {{ step }})\n")
    assert warnings == []


def test_without_the_key_every_channel_keeps_its_built_in_text(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)
    assert config.notifications.templates == MessageTemplates()


def test_a_syntax_error_names_the_key_line_and_the_template_line(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    email_body: |
      {{ alert.title }}
      Severity: {{ alert.severity }
"""
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "email_body:")
    assert problem.path == "notifications.templates.email_body"
    assert problem.message == "template syntax error on its line 2: unexpected '}'"
    assert "close every {{ with }}" in problem.fix


def test_an_unclosed_block_is_a_syntax_error(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    sms: "{% if alert.severity %}{{ alert.severity }}: {{ alert.title }}"
"""
    problem = only_error(tmp_path, text)
    assert problem.line == line_of(text, "sms:")
    assert problem.message.startswith("template syntax error on its line 1: ")
    assert "'endif'" in problem.message


def test_an_unknown_variable_is_named_with_every_known_one(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    voice: "Alert {{ alert.id }}: {{ titel }}"
"""
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "voice:")
    assert problem.message.startswith("unknown variable 'titel' (known: ")
    for name in TEMPLATE_VARIABLES:
        assert name in problem.message
    assert problem.fix == "did you mean 'alert.title'?"


def test_an_unknown_field_of_alert_or_user_is_named_too(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    slack: "{{ alert.sevrity }} for {{ user.email }}"
"""
    found = [p.message.split(" (known")[0] for p in errors(tmp_path, text)]
    assert found == ["unknown variable 'alert.sevrity'", "unknown variable 'user.email'"]


def test_any_label_name_is_accepted_as_labels_come_from_the_sender(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    sms: "{{ alert.labels.team }} {{ alert.labels['k8s.io/app'] }} {{ alert.title }}"
"""
    config, warnings = load(tmp_path, text)
    assert config.notifications.templates.sms is not None
    assert warnings == []


def test_a_template_that_fails_on_the_sample_page_is_an_error(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    email_subject: "{{ alert.title.__class__ }}"
    voice: "{{ step / 0 }}"
"""
    found = {p.path: p.message for p in errors(tmp_path, text)}
    assert found["notifications.templates.email_subject"].startswith(
        "fails on a sample page on its line 1: SecurityError: access to attribute '__class__'")
    assert found["notifications.templates.voice"] == (
        "fails on a sample page on its line 1: ZeroDivisionError: division by zero")


def test_an_sms_longer_than_one_segment_on_the_sample_is_a_warning(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    sms: "{{ alert.title }} {{ alert.description }} {{ alert.source_url }} {{ ack_url }}"
"""
    config, warnings = load(tmp_path, text)

    assert config.notifications.templates.sms is not None  # still used, cut to one segment
    [warning] = warnings
    assert warning.path == "notifications.templates.sms"
    assert warning.line == line_of(text, "sms:")
    said = re.fullmatch(r"renders to (\d+) characters on a sample page, more than one SMS "
                        r"segment \(160 GSM-7 characters, or 70 .*\), so pages are cut to one "
                        r"segment", warning.message)
    assert said is not None, warning.message
    assert int(said.group(1)) > 160


def test_a_non_latin_sms_template_is_measured_against_70(tmp_path: Path) -> None:
    short_latin = "{{ alert.title }} {{ reply.ack }}"  # under 70 characters rendered
    thai = "แจ้งเตือน " + short_latin + " ด่วนมาก กรุณาตอบกลับทันที"  # past 70 with the Thai

    _, warnings = load(tmp_path, BASE + f'notifications:\n  templates:\n    sms: "{short_latin}"\n')
    assert warnings == []
    _, warnings = load(tmp_path, BASE + f'notifications:\n  templates:\n    sms: "{thai}"\n')
    [warning] = warnings
    said = re.match(r"renders to (\d+) characters", warning.message)
    assert said is not None, warning.message
    assert 70 < int(said.group(1)) <= 160  # would fit a GSM-7 segment, not a UCS-2 one


def test_a_long_slack_or_email_template_is_no_warning(tmp_path: Path) -> None:
    long = "{{ alert.description }} " * 10
    _, warnings = load(tmp_path, BASE + f'notifications:\n  templates:\n    slack: "{long}"\n'
                                        f'    email_body: "{long}"\n')
    assert warnings == []


def test_a_template_printing_nothing_on_the_sample_is_a_warning(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    sms: "{% if alert.status == 'resolved' %}{{ alert.title }} is over{% endif %}"
"""
    _, warnings = load(tmp_path, text)
    assert [w.message.split(",")[0] for w in warnings] == ["renders to nothing on a sample page"]


def test_an_unquoted_template_is_read_by_yaml_as_a_mapping_and_says_so(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    sms: {{ alert.title }}
"""
    found = errors(tmp_path, text)
    # PyYAML may also refuse the braces outright; either way the fix is to quote.
    assert found
    assert any("quote" in p.fix for p in found), [p.format() for p in found]


def test_an_empty_template_and_an_unknown_key_are_errors(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    sms: "  "
    whatsapp: "{{ alert.title }}"
"""
    found = {(p.path, p.message, p.fix) for p in errors(tmp_path, text)}
    assert ("notifications.templates.sms", "the template is empty",
            "write the text, or remove the key to keep the built-in text") in found
    assert any(path == "notifications.templates.whatsapp" and message == "unknown key 'whatsapp'"
               for path, message, _ in found)


def test_check_prints_the_problem_as_file_line_path(tmp_path: Path) -> None:
    text = BASE + """\
notifications:
  templates:
    email_subject: "{{ alert.title }} ({{ alert.sevrity }})"
"""
    path = write(tmp_path, text)

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{line_of(text, 'email_subject:')}: "
                            "notifications.templates.email_subject: unknown variable "
                            "'alert.sevrity' (known: alert.id, ")
    assert first.endswith("; fix: did you mean 'alert.severity'?")
