"""The `incidents:` section, the incident keys of severities and `declare_incident`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.config.helpers import BASE, errors, line_of, load
from tocsin.config.incidents import channel_name_problem, render_channel_name
from tocsin.config.model import DEFAULT_ROLES, Target


def test_defaults_when_nothing_is_written(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)
    sev1, sev2, sev3, sev4 = config.severities
    assert [(s.name, s.target_mttr_minutes, s.urgency) for s in config.severities] == [
        ("SEV1", 30, "high"), ("SEV2", 60, "high"), ("SEV3", 240, "high"),
        ("SEV4", 1440, "low")]
    assert (sev1.postmortem_required, sev1.update_every_minutes) == (True, 30)
    assert (sev2.postmortem_required, sev2.update_every_minutes) == (True, 60)
    assert (sev3.postmortem_required, sev3.update_every_minutes) == (False, None)
    assert sev4.notify == ()
    assert config.incidents.channel_name == "inc-{year}-{number:04d}"
    assert config.incidents.roles == DEFAULT_ROLES
    assert config.routes[0].declare_incident is None


def test_written_severities_keep_the_sev1_and_sev2_defaults(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE + """\
teams:
  - {name: leadership, members: [bob@company.com]}
severities:
  - {name: sev1, target_mttr_minutes: 20, notify: [leadership, primary, alice]}
  - {name: SEV2, update_every_minutes: 45, postmortem_required: false}
  - {name: SEV3, postmortem_required: true, postmortem_due_days: 10}
""")
    sev1, sev2, sev3 = config.severities
    assert sev1.notify == (Target("user", "bob"), Target("schedule", "primary"),
                           Target("user", "alice"))
    assert (sev1.update_every_minutes, sev1.postmortem_due_days) == (30, 5)
    assert (sev2.update_every_minutes, sev2.postmortem_required) == (45, False)
    assert (sev3.postmortem_required, sev3.postmortem_due_days) == (True, 10)


def test_incidents_section_is_read(tmp_path: Path) -> None:
    config, _ = load(tmp_path, (BASE + """\
services:
  - {name: payment, escalation_policy: critical}
teams:
  - {name: ops, members: [alice]}
routes:
  - {match: {severity: critical}, notify: critical, declare_incident: sev1,
     routes: [{match: {env: prod}}]}
  - notify: critical
incidents:
  channel_name: "{severity}-{year}{month:02d}{day:02d}-{number}"
  commander_schedule: primary
  roles:
    - {name: Commander, duty: Runs it.}
    - {name: Liaison, duty: Talks to customers.}
  stakeholders:
    - {services: [payment], severities: [sev1], users: [bob@company.com], teams: [ops],
       slack_channels: [C0EXEC]}
""").replace("routes:\n  - notify: critical\n", "", 1))
    settings = config.incidents
    assert settings.commander_schedule == "primary"
    assert [r.name for r in settings.roles] == ["Commander", "Liaison"]
    assert settings.role("liaison") is not None
    entry = settings.stakeholders[0]
    assert (entry.severities, entry.users, entry.teams) == (("SEV1",), ("bob",), ("ops",))
    assert config.routes[0].declare_incident == "SEV1"
    assert config.routes[0].routes[0].declare_incident == "SEV1"  # inherited


@pytest.mark.parametrize(("template", "said"), [
    ("inc-{id}", "unknown placeholder {id}"),
    ("Inc-{number}", "which Slack refuses"),
    ("inc {number}", "which Slack refuses"),
    ("inc-{number", "not a valid template"),
    ("inc-{number:x<90}", "Slack allows 80"),
    ("inc-{severity:04d}-{number}", "cannot be filled in"),
    ("inc-{year}-{severity}", "has no {number}"),
])
def test_channel_names_slack_would_refuse_are_errors(
    tmp_path: Path, template: str, said: str,
) -> None:
    text = BASE + f'incidents:\n  channel_name: "{template}"\n'
    found = errors(tmp_path, text)
    assert [(p.line, p.path) for p in found] == [
        (line_of(text, "channel_name"), "incidents.channel_name")]
    assert said in found[0].message
    assert "fix:" in found[0].format()


def test_unknown_names_in_incident_keys_are_reported(tmp_path: Path) -> None:
    text = BASE + """\
severities:
  - {name: SEV1, notify: [nobody-here]}
incidents:
  commander_schedule: missing
  roles: [{name: Scribe, duty: Notes}, {name: scribe, duty: Again}]
  stakeholders:
    - {services: [nope], severities: [SEV7]}
  colour: red
"""
    found = errors(tmp_path, text.replace("  - notify: critical\n",
                                          "  - {notify: critical, declare_incident: P1}\n"))
    paths = sorted(p.path for p in found)
    assert paths == sorted([
        "routes[0].declare_incident", "severities[0].notify[0]",
        "incidents.commander_schedule", "incidents.roles[0]", "incidents.roles[1].name",
        "incidents.stakeholders[0].services[0]", "incidents.stakeholders[0].severities[0]",
        "incidents.stakeholders[0]", "incidents.colour"])


def test_channel_names_render_from_the_template() -> None:
    when = datetime(2026, 3, 2, tzinfo=UTC)
    assert render_channel_name("inc-{year}-{number:04d}", number=142, declared_at=when,
                               severity="SEV1") == "inc-2026-0142"
    assert channel_name_problem("inc-{year}-{number:04d}") is None


def test_severities_are_slugged_in_channel_names() -> None:
    when = datetime(2026, 3, 2, tzinfo=UTC)
    assert render_channel_name("{severity}-{number}", number=7, declared_at=when,
                               severity="Major Outage!") == "major-outage--7"
    assert channel_name_problem("{severity}-{number}", ["Major Outage!"]) is None


def test_channel_names_are_checked_with_every_configured_severity(tmp_path: Path) -> None:
    text = BASE + f"""\
severities:
  - {{name: SEV1}}
  - {{name: {"Outage" * 12}}}
incidents:
  channel_name: "inc-{{severity}}-{{number}}"
"""
    found = errors(tmp_path, text)
    assert [(p.line, p.path) for p in found] == [
        (line_of(text, "channel_name"), "incidents.channel_name")]
    assert "Slack allows 80" in found[0].message
    assert "Outage" in found[0].message


def test_stakeholder_slack_channels_must_be_channel_ids(tmp_path: Path) -> None:
    text = BASE + """\
incidents:
  stakeholders:
    - {slack_channels: [C0EXEC, "#exec", U012AB3CD]}
"""
    found = errors(tmp_path, text)
    assert [p.path for p in found] == ["incidents.stakeholders[0].slack_channels[1]",
                                       "incidents.stakeholders[0].slack_channels[2]"]
    assert "is a channel name" in found[0].message
    assert "About tab" in found[0].format()
    assert "not a Slack channel id" in found[1].message
