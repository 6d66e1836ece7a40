"""Slash commands: `/oncall [schedule]` says who is on call now; unknown ones get help.

`/incident` and `/page` are answered by web.slack_incidents.

The answer is the text of an ephemeral reply (only the person who typed
the command sees it), in Slack's mrkdwn. Who is on call comes from the same
oncall service the `tocsin oncall` command uses, overrides included.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tocsin.config.model import Config, Schedule
from tocsin.engine.runtime import Runtime
from tocsin.notify.slack import escape
from tocsin.oncall import service
from tocsin.oncall.rules import Shift

ONCALL = "/oncall"
HELP = ("Tocsin answers these commands:\n"
        "• `/oncall` who is on call now in every schedule\n"
        "• `/oncall SCHEDULE` who is on call now in one schedule\n"
        "• `/incident help` declare and run incidents (`/incident create \"TITLE\" SEV1`)\n"
        "• `/page @person|SCHEDULE|POLICY MESSAGE` page someone now\n"
        "Pages sent to Slack have Acknowledge, Resolve, Snooze and Escalate now controls.")
# Slack shows about 40,000 characters of a message; a long list is cut well before.
_SHOWN_SCHEDULES = 40


def answer(runtime: Runtime, config: Config, command: str, text: str) -> str:
    if command.strip().lower() != ONCALL:
        return HELP
    name = text.strip()
    if name and name not in config.schedules:
        known = ", ".join(sorted(config.schedules)[:_SHOWN_SCHEDULES]) or "none"
        return (f"There is no schedule named {escape(name[:80])}. Schedules: {escape(known)}.\n"
                "Use `/oncall SCHEDULE`, or `/oncall` for all of them.")
    chosen = [config.schedules[name]] if name else [
        config.schedules[n] for n in sorted(config.schedules)]
    if not chosen:
        return "This Tocsin has no schedules."
    now = runtime.clock.now()
    with runtime.sessions() as session:
        lines = [_line(config, s, service.on_call(session, s, now))
                 for s in chosen[:_SHOWN_SCHEDULES]]
    if len(chosen) > _SHOWN_SCHEDULES:
        lines.append(f"and {len(chosen) - _SHOWN_SCHEDULES} more schedules: "
                     "name one with `/oncall SCHEDULE`")
    return f"On call now ({now:%Y-%m-%d %H:%M} UTC):\n" + "\n".join(lines)


def _line(config: Config, schedule: Schedule, shifts: list[Shift]) -> str:
    title = f"*{escape(schedule.name)}*"
    if not shifts:
        return f"{title}: nobody is on call"
    zone = ZoneInfo(schedule.timezone)
    held = [f"{_person(config, s.user)} until {_local(s.end, zone)}" for s in shifts]
    return f"{title}: " + "; ".join(held)


def _person(config: Config, user_id: str) -> str:
    user = config.users.get(user_id)
    if user is None:
        return escape(user_id)
    slack = user.contacts.get("slack")
    mention = f" (<@{slack}>)" if slack and slack.isalnum() else ""
    return escape(user.display) + mention


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key}"
