"""The definitions a `tocsin.yaml` holds, as plain frozen values.

The loader (`config.loader`) turns a file into a `Config` or a list of
problems; everything else reads these values and never the YAML. Users are
keyed by id; a bare e-mail address used as a participant or target becomes
a user whose id is that address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

TargetKind = Literal["schedule", "user", "escalation_policy"]
Urgency = Literal["high", "low"]
Scope = Literal["read", "write", "admin"]

# Channels a contact may name. Console is not among them: it is always on.
CONTACT_CHANNELS: tuple[str, ...] = ("slack", "phone", "sms", "email", "webhook")


@dataclass(frozen=True)
class User:
    id: str
    email: str | None = None
    name: str | None = None
    timezone: str | None = None
    contacts: dict[str, str] = field(default_factory=dict)
    # True for a bare e-mail address used without a `users` entry.
    implicit: bool = False

    @property
    def display(self) -> str:
        return self.name or self.email or self.id


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    name: str
    escalation_policy: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Restriction:
    """A local window in which a layer puts someone on call.

    `end` at or before `start` means the window runs past midnight into the
    next day ("22:00" to "06:00"); `days` names the days the window STARTS
    on; an empty `days` means every day.
    """

    start: time
    end: time
    days: tuple[Weekday, ...] = ()


@dataclass(frozen=True)
class Layer:
    """One rotation: who holds the shift, handing off at a local wall time."""

    rotation: Literal["daily", "weekly"]
    participants: tuple[str, ...]  # user ids, in rotation order
    start_time: time = time(0, 0)
    start_day: Weekday = "mon"  # weekly only
    start_date: date | None = None  # None: anchor at 1970-01-05 local
    name: str = "rotation"
    # Empty: on call all the time. Otherwise only inside these windows; a
    # rotation period with no time inside them uses up nobody's turn.
    restrictions: tuple[Restriction, ...] = ()


OverrideKind = Literal["replace", "add", "whole"]


@dataclass(frozen=True)
class Override:
    """`user` covers for `replaces` (only while they are on call), is added
    beside whoever is on call, or takes the whole schedule, from `start` to
    `end` (aware UTC instants, end exclusive)."""

    user: str
    start: datetime
    end: datetime
    kind: OverrideKind = "whole"
    replaces: str | None = None  # user id, for kind "replace"
    id: str = ""  # "config:<schedule>:<index>" for the file's, the database id for others


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    # Where the schedule starts in the file, for warnings. Moving it in the
    # file does not change the schedule, so it takes no part in equality.
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    name: str  # user id, schedule name or policy name


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    timeout_minutes: float


@dataclass(frozen=True)
class EscalationPolicy:
    name: str
    steps: tuple[Step, ...]
    repeat: int = 0
    ack_timeout_minutes: float | None = None
    # True for the one-step policy made for a route that notifies a
    # schedule or user directly.
    implicit: bool = False


@dataclass(frozen=True)
class Route:
    notify: Target
    match: dict[str, str] = field(default_factory=dict)
    match_re: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] | None = None  # None: every contact channel
    urgency: Urgency = "high"
    line: int = 0  # where the route starts in the file, for explanations


@dataclass(frozen=True)
class Integration:
    name: str
    type: Literal["alertmanager", "pagerduty"]
    key: str
    service: str | None = None


@dataclass(frozen=True)
class SlackProvider:
    token: str
    signing_secret: str | None = None
    api_url: str = "https://slack.com/api/"
    channel: str | None = None  # a channel that also receives every page


@dataclass(frozen=True)
class WebhookProvider:
    secret: str
    timeout_seconds: float = 10.0
    max_attempts: int = 5


@dataclass(frozen=True)
class Notifications:
    slack: SlackProvider | None = None
    webhook: WebhookProvider | None = None
    fallback: tuple[str, ...] = ()  # user ids

    @property
    def real_channels(self) -> tuple[str, ...]:
        """Channels with a provider configured, beside the console."""
        found: list[str] = []
        if self.slack is not None:
            found.append("slack")
        if self.webhook is not None:
            found.append("webhook")
        return tuple(found)


@dataclass(frozen=True)
class ApiToken:
    name: str
    token: str
    user: str | None = None
    scope: Scope = "write"


@dataclass(frozen=True)
class Severity:
    name: str
    description: str = ""
    target_mttr_minutes: float = 0
    urgency: Urgency = "high"


DEFAULT_SEVERITIES: tuple[Severity, ...] = (
    Severity("SEV1", "Critical: full outage, all users affected", 30, "high"),
    Severity("SEV2", "Major: partial outage, many users affected", 60, "high"),
    Severity("SEV3", "Minor: degraded service, some users affected", 240, "high"),
    Severity("SEV4", "Low: cosmetic issue, workaround available", 1440, "low"),
)


@dataclass(frozen=True)
class WorkingHours:
    """When a person's on-call hours count as business, off or sleep hours.

    Read on each person's own wall clock. `days` are the business days: the
    days a business window STARTS on. Sleep windows apply every night. A
    window whose end is at or before its start runs past midnight; that is
    the usual shape for sleep and allowed for business (a night shop).
    """

    business_start: time = time(8)
    business_end: time = time(18)
    sleep_start: time = time(22)
    sleep_end: time = time(8)
    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")

    @property
    def business(self) -> tuple[time, time]:
        return self.business_start, self.business_end

    @property
    def sleep(self) -> tuple[time, time]:
        return self.sleep_start, self.sleep_end


@dataclass(frozen=True)
class Config:
    path: str
    timezone: str = "UTC"
    public_url: str = "http://127.0.0.1:8080"
    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    escalation_policies: dict[str, EscalationPolicy] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    integrations: tuple[Integration, ...] = ()
    notifications: Notifications = field(default_factory=Notifications)
    api_tokens: tuple[ApiToken, ...] = ()
    severities: tuple[Severity, ...] = DEFAULT_SEVERITIES
    working_hours: WorkingHours = field(default_factory=WorkingHours)

    def user_by_email_or_id(self, name: str) -> User | None:
        if name in self.users:
            return self.users[name]
        for user in self.users.values():
            if user.email == name:
                return user
        return None

    def integration_by_key(self, key: str) -> Integration | None:
        for integration in self.integrations:
            if integration.key == key:
                return integration
        return None

    def severity(self, name: str) -> Severity | None:
        for severity in self.severities:
            if severity.name.lower() == name.lower():
                return severity
        return None
