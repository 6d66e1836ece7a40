"""The `action_items:` and `trackers:` sections, as `tocsin check` reads them."""

from __future__ import annotations

from datetime import time

from tests.config.helpers import BASE, errors, line_of, load, only_error, rejected, warnings_at

TRACKERS = BASE + """\
trackers:
  jira: {base_url: "https://acme.atlassian.net/", project: OPS, email: bot@acme.com,
         token: "${JIRA_TOKEN}"}
  github: {repo: acme/platform, token: "${GITHUB_TOKEN}"}
  webhook: {url: "https://hooks.acme.com/items", secret: "${HOOK_SECRET}"}
"""
ENV = {"JIRA_TOKEN": "jira-secret-1", "GITHUB_TOKEN": "ghp-secret-2",
       "HOOK_SECRET": "hook-secret-3"}


def test_defaults_remind_two_days_before_and_every_two_days_after(tmp_path):
    config, _warnings = load(tmp_path, BASE)
    settings = config.action_items
    assert (settings.remind_before_days, settings.remind_every_days_overdue,
            settings.remind_at, settings.digest_day, settings.digest_time) == (
        2, 2, time(9), "mon", time(9))
    assert config.trackers.names() == []


def test_every_key_is_read(tmp_path):
    text = BASE + """\
action_items:
  remind_before_days: 3
  remind_every_days_overdue: 0
  remind_at: "08:30"
  digest: {day: friday, time: "16:00", enabled: false}
"""
    settings = load(tmp_path, text)[0].action_items
    assert (settings.remind_before_days, settings.remind_every_days_overdue,
            settings.remind_at, settings.digest_day, settings.digest_time,
            settings.digest_enabled) == (3, 0, time(8, 30), "fri", time(16), False)


def test_trackers_take_their_credentials_from_the_environment(tmp_path):
    config, warnings = load(tmp_path, TRACKERS, ENV)
    trackers = config.trackers
    assert trackers.names() == ["jira", "github", "webhook"]
    assert trackers.jira is not None and trackers.jira.base_url == "https://acme.atlassian.net"
    assert trackers.jira.token == "jira-secret-1"
    assert trackers.github is not None and trackers.github.base_url == "https://api.github.com"
    assert warnings == []
    assert trackers.jira.api_version == 2
    v3 = load(tmp_path, TRACKERS.replace("project: OPS,", "project: OPS, api_version: 3,"), ENV)
    assert v3[0].trackers.jira is not None and v3[0].trackers.jira.api_version == 3
    wrong = errors(tmp_path, TRACKERS.replace("project: OPS,", "project: OPS, api_version: 4,"),
                   ENV)
    assert [p.path for p in wrong] == ["trackers.jira.api_version"]


def test_a_credential_written_in_the_file_is_warned_about_and_never_echoed(tmp_path):
    text = TRACKERS.replace('"${GITHUB_TOKEN}"', "ghp-literal-token-999")
    _config, warnings = load(tmp_path, text, ENV)
    assert warnings_at(warnings, "trackers.github.token") == [
        "a credential is written into the file"]
    assert all("ghp-literal-token-999" not in w.format() for w in warnings)


def test_an_unset_token_and_a_bad_repo_name_their_fields_and_lines(tmp_path):
    text = TRACKERS.replace("acme/platform", "platform")
    found = errors(tmp_path, text, {k: v for k, v in ENV.items() if k != "JIRA_TOKEN"})
    assert [(p.path, p.line) for p in found] == [
        ("trackers.jira.token", line_of(text, "JIRA_TOKEN")),
        ("trackers.github.repo", line_of(text, "platform")),
    ]
    assert "JIRA_TOKEN" in found[0].message


def test_missing_keys_and_bad_values_are_refused(tmp_path):
    missing = only_error(tmp_path, BASE + "trackers: {github: {repo: acme/platform}}\n")
    assert (missing.path, missing.message) == ("trackers.github.token",
                                               "missing required key 'token'")
    bad_url = only_error(tmp_path, BASE + 'trackers: {webhook: {url: "ftp://x?token=abc", '
                                          'secret: "${S:-x}"}}\n')
    assert bad_url.path == "trackers.webhook.url" and "abc" not in bad_url.format()
    days = only_error(tmp_path, BASE + "action_items: {remind_before_days: 1.5}\n")
    assert days.path == "action_items.remind_before_days"
    assert [p.path for p in rejected(tmp_path, BASE + "trackers: {trello: {}}\n")] == [
        "trackers.trello"]
