"""The file's `action_items:` and `trackers:` sections (docs/action-items.md).

Tracker tokens and the webhook secret are credentials: `check` never
prints their values, and warns when one is written into the file instead
of coming from the environment (`"${JIRA_TOKEN}"`), since the file is
meant to be reviewed in git.
"""

from __future__ import annotations

import re

import yaml

from tocsin.config.convert import (
    boolean,
    choice,
    nonblank,
    number,
    shape,
    time_of_day,
    weekday,
)
from tocsin.config.model import (
    ActionItemSettings,
    GitHubTracker,
    JiraTracker,
    Trackers,
    WebhookTracker,
)
from tocsin.config.schema import Fields, Key, Problems, Reader, Shape, Spot, line_of

# Reminders further apart or earlier than two months are typos.
MAX_DAYS = 60
MAX_SYNC_MINUTES = 7 * 24 * 60
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_PROJECT = re.compile(r"[A-Z][A-Z0-9_]{0,49}")


def _url(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is not None and not re.fullmatch(r"https?://[^\s/?#]+(/\S*)?", value):
        # The value is not echoed: a webhook URL may carry a token in its query.
        reader.error(node, path, "not an http(s) URL",
                     "write it as https://host/path, or ${VARIABLE} holding one")
        return None
    return value


def _secret(reader: Reader, node: yaml.Node, path: str) -> str | None:
    """A credential: never echoed; a warning when written out rather than `${NAME}`."""
    if isinstance(node, yaml.ScalarNode) and "${" not in str(node.value):
        reader.problems.warning(
            Spot(line_of(node), path), "a credential is written into the file",
            f'move it to the environment and write "${{{_env_name(path)}}}"')
    value = reader.string(node, path)
    if value is not None and not value.strip():
        reader.error(node, path, "must not be empty",
                     "set the variable to the credential, or remove the tracker")
        return None
    return value


def _env_name(path: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", path.upper().removeprefix("TRACKERS."))


def _repo(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = nonblank(reader, node, path)
    if value is not None and not _REPO.fullmatch(value):
        reader.error(node, path, f"'{value[:100]}' is not owner/name",
                     "write the repository as owner/name, e.g. acme/platform")
        return None
    return value


def _project(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = nonblank(reader, node, path)
    if value is not None and not _PROJECT.fullmatch(value):
        reader.error(node, path, f"'{value[:100]}' is not a Jira project key",
                     "write the key issues are numbered with, e.g. OPS for OPS-12")
        return None
    return value


_DIGEST: Shape = {
    "day": Key(weekday),
    "time": Key(time_of_day),
    "enabled": Key(boolean),
}

ACTION_ITEMS: Shape = {
    "remind_before_days": Key(number(whole=True, maximum=MAX_DAYS)),
    "remind_every_days_overdue": Key(number(whole=True, maximum=MAX_DAYS)),
    "remind_at": Key(time_of_day),
    "digest": Key(shape(_DIGEST)),
}

_JIRA: Shape = {
    "base_url": Key(_url, required=True, example="base_url: https://acme.atlassian.net"),
    "project": Key(_project, required=True, example="project: OPS"),
    "email": Key(nonblank, required=True, example="email: bot@acme.com"),
    "token": Key(_secret, required=True, example='token: "${JIRA_TOKEN}"'),
    "issue_type": Key(nonblank),
    "api_version": Key(choice("2", "3")),
}

_GITHUB: Shape = {
    "base_url": Key(_url),
    "repo": Key(_repo, required=True, example="repo: acme/platform"),
    "token": Key(_secret, required=True, example='token: "${GITHUB_TOKEN}"'),
}

_WEBHOOK: Shape = {
    "url": Key(_url, required=True, example="url: https://hooks.acme.com/action-items"),
    "secret": Key(_secret, required=True, example='secret: "${TRACKER_WEBHOOK_SECRET}"'),
}

TRACKERS: Shape = {
    "jira": Key(shape(_JIRA)),
    "github": Key(shape(_GITHUB)),
    "webhook": Key(shape(_WEBHOOK)),
    "sync_every_minutes": Key(number(above=True, maximum=MAX_SYNC_MINUTES)),
}


def build_action_items(top: Fields) -> ActionItemSettings:
    entry: Fields | None = top.get("action_items")
    if entry is None:
        return ActionItemSettings()
    digest: Fields | None = entry.get("digest")
    default = ActionItemSettings()
    return ActionItemSettings(
        remind_before_days=int(entry.get("remind_before_days", default.remind_before_days)),
        remind_every_days_overdue=int(entry.get("remind_every_days_overdue",
                                                default.remind_every_days_overdue)),
        remind_at=entry.get("remind_at", default.remind_at),
        digest_day=digest.get("day", default.digest_day) if digest else default.digest_day,
        digest_time=digest.get("time", default.digest_time) if digest else default.digest_time,
        digest_enabled=digest.get("enabled", True) if digest else True,
    )


def build_trackers(top: Fields, problems: Problems) -> Trackers:
    entry: Fields | None = top.get("trackers")
    if entry is None:
        return Trackers()
    jira = _complete(entry, "jira", problems)
    github = _complete(entry, "github", problems)
    webhook = _complete(entry, "webhook", problems)
    return Trackers(
        jira=JiraTracker(
            base_url=jira.get("base_url").rstrip("/"), project=jira.get("project"),
            email=jira.get("email"), token=jira.get("token"),
            issue_type=jira.get("issue_type", "Task"),
            api_version=int(jira.get("api_version", "2")),
        ) if jira else None,
        github=GitHubTracker(
            repo=github.get("repo"), token=github.get("token"),
            base_url=github.get("base_url", GitHubTracker.base_url).rstrip("/"),
        ) if github else None,
        webhook=WebhookTracker(url=webhook.get("url"), secret=webhook.get("secret"))
        if webhook else None,
        sync_every_minutes=float(entry.get("sync_every_minutes", Trackers.sync_every_minutes)),
    )


def _complete(entry: Fields, name: str, problems: Problems) -> Fields | None:
    """The tracker's fields when every required key read cleanly, else None."""
    found: Fields | None = entry.get(name)
    if found is None or problems.has_errors_under(entry.at(name).path):
        return None
    return found
