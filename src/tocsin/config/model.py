"""The definitions a `tocsin.yaml` holds, as plain frozen values.

The loader (`config.loader`) turns a file into a `Config` or a list of
problems; everything else reads these values and never the YAML. Users are
keyed by id; a bare e-mail address used as a participant or target becomes
a user whose id is that address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from tocsin.config.phones import e164

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

TargetKind = Literal["schedule", "user", "escalation_policy"]
Urgency = Literal["high", "low"]
Scope = Literal["read", "write", "admin"]

# Channels a contact may name. Console is not among them: it is always on.
CONTACT_CHANNELS: tuple[str, ...] = ("slack", "phone", "sms", "email", "webhook", "pagerduty")

# More new alerts a minute than this on one route is a storm, whose pages are
# bundled (docs/routing.md, "Storms"); `storm: off` (None) never bundles.
DEFAULT_STORM_PER_MINUTE = 20


@dataclass(frozen=True)
class NotificationRule:
    """Page through `channel` this many minutes after the step starts."""

    channel: str
    after_minutes: float = 0.0


@dataclass(frozen=True)
class User:
    id: str
    email: str | None = None
    name: str | None = None
    timezone: str | None = None
    contacts: dict[str, str] = field(default_factory=dict)
    # True for a bare e-mail address used without a `users` entry.
    implicit: bool = False
    # Per urgency, sorted by delay; a missing urgency: see `rules_for`.
    notification_rules: dict[str, tuple[NotificationRule, ...]] = field(default_factory=dict)

    def rules_for(self, urgency: str) -> tuple[NotificationRule, ...]:
        """The rules for an urgency; low without its own list follows high; () is every
        contact at once."""
        found = self.notification_rules.get(urgency)
        if found is None and urgency == "low":
            found = self.notification_rules.get("high")
        return found or ()

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

    # daily and weekly, or {every: N} as hours (elapsed), days or weeks (wall clock)
    rotation: Literal["daily", "weekly", "hours", "days", "weeks"]
    participants: tuple[str, ...]  # user ids, in rotation order
    start_time: time = time(0, 0)
    start_day: Weekday = "mon"  # weekly and weeks only
    start_date: date | None = None  # None: anchor at 1970-01-05 local
    name: str = "rotation"
    # Empty: on call all the time. Otherwise only inside these windows; a
    # rotation period with no time inside them uses up nobody's turn.
    restrictions: tuple[Restriction, ...] = ()
    every: int = 1  # N of {every: N}; 1 for daily and weekly


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
    # Who hears of a coverage gap ahead: this team; without it, the teams whose
    # services' escalation policies target the schedule; else its participants.
    team: str | None = None
    gap_notice_days: float = 3  # notice gaps starting this far ahead; 0: never
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
class Flapping:
    """An alert key that changes (fires again, resolves, changes severity) more
    than `changes` times within `minutes` is flapping: while it flaps, a new
    escalation of the key pages at most once per `minutes`."""

    changes: int = 5
    minutes: float = 30


@dataclass(frozen=True)
class Route:
    """A node of the routing tree. A route with nested `routes` tries them
    first and handles the alert itself only when none of them takes it;
    nested routes inherit notify, channels, urgency, flapping and group_by
    where they leave them out. `notify` is None only for a route that just groups nested
    ones."""

    notify: Target | None
    match: dict[str, str] = field(default_factory=dict)
    match_re: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] | None = None  # None: every contact channel
    urgency: Urgency | None = None  # None: from the alert's severity
    line: int = 0  # where the route starts in the file, for explanations
    # Only while the config's local clock is inside this window; None: always.
    active: Restriction | None = None
    routes: tuple[Route, ...] = ()
    path: str = ""  # where it is in the tree, e.g. routes[1].routes[0]
    # Labels whose values group the alerts this route takes (alerts.groups);
    # empty: no grouping. Nested routes inherit it unless they set their own.
    group_by: tuple[str, ...] = ()
    # For alerts this route takes: its own, its parent's, else the file's top-level
    # setting; None: flapping detection off.
    flapping: Flapping | None = field(default_factory=Flapping)
    # `continue: true`: once this route (or a route nested in it) takes an
    # alert, the routes after it are still tried, and each that takes it runs
    # its policy beside the first one's (see routing.rules).
    continues: bool = False
    # More alerts a minute than this put the route in storm; None: never. Already
    # inherited: from the route it sits in, else the file's top-level `storm`.
    storm: int | None = DEFAULT_STORM_PER_MINUTE
    # Declare an incident of this severity for alerts this route takes; None: never.
    # Nested routes inherit it.
    declare_incident: str | None = None


# An integration's `fields:`: (Tocsin field, source paths tried in order) pairs.
# A tuple, not a dict, so that an integration stays hashable.
FieldMap = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Integration:
    name: str
    # "heartbeat": made by the engine for a missed heartbeat, never written in the file
    type: Literal["alertmanager", "pagerduty", "opsgenie", "grafana", "generic", "heartbeat"]
    key: str
    service: str | None = None
    max_body_kib: float | None = None  # None: the default for the type
    # Fields taken from other paths than the type's defaults (`alerts.mapping`).
    fields: FieldMap = ()


@dataclass(frozen=True)
class Heartbeat:
    """A ping expected every `interval_minutes`.

    With no ping for `interval_minutes + grace_minutes` the heartbeat is
    missed and raises an alert; the next ping resolves it. `key`, when set,
    is a secret that pings this heartbeat (API tokens of write scope ping
    every heartbeat).
    """

    name: str
    interval_minutes: float
    grace_minutes: float
    service: str | None = None
    severity: str = "critical"
    key: str | None = None


# Longer than any planned maintenance: a longer window is a typo in a year, and it
# would silence paging for good. The file and the API check the same limit.
MAX_MAINTENANCE = timedelta(days=366)


@dataclass(frozen=True)
class MaintenanceWindow:
    """Planned maintenance written in the file: while it is in force, alerts
    it matches are recorded but page nobody (see `alerts.maintenance_rules`).
    `start` and `end` are aware UTC instants, end exclusive."""

    name: str
    start: datetime
    end: datetime
    services: tuple[str, ...] = ()
    match: dict[str, str] = field(default_factory=dict)
    match_re: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class SlackProvider:
    token: str
    signing_secret: str | None = None
    api_url: str = "https://slack.com/api/"
    channel: str | None = None  # a channel that also receives every page
    # A reaction with this emoji in an incident's channel pins the message to its timeline.
    pin_emoji: str = "pushpin"


@dataclass(frozen=True)
class WebhookProvider:
    secret: str
    timeout_seconds: float = 10.0
    max_attempts: int = 5


EmailSecurity = Literal["starttls", "tls", "none"]
# The port each way of securing SMTP is usually served on.
EMAIL_PORTS: dict[EmailSecurity, int] = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class EmailProvider:
    """An SMTP server that sends pages to `contacts.email` (see notify.email)."""

    host: str
    sender: str  # the file's `from`: an address, optionally as `Name <address>`
    port: int = 587
    security: EmailSecurity = "starttls"
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class TwilioProvider:
    """A Twilio-compatible REST API for `contacts.sms` and `contacts.phone`."""

    account_sid: str
    auth_token: str
    sender: str  # the file's `from`: an E.164 number the account owns
    api_url: str = "https://api.twilio.com"
    status_callback_url: str | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class PagerDutyProvider:
    """Any PagerDuty Events API v2 endpoint that `contacts.pagerduty` routing keys forward to."""

    url: str = "https://events.pagerduty.com/v2/enqueue"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class RateLimit:
    """At most `messages` pages in any `per_minutes` to one contact of `channel`."""

    channel: str
    messages: int
    per_minutes: float


# A page not delivered this long after it became due brings the person's next rule forward.
DEFAULT_FAILOVER_AFTER_MINUTES = 2.0


@dataclass(frozen=True)
class MessageTemplates:
    """`notifications.templates`: Jinja2 texts that replace a channel's own wording.

    None keeps the built-in text (config.templates checks them, notify.templates renders).
    """

    slack: str | None = None
    sms: str | None = None
    voice: str | None = None
    email_subject: str | None = None
    email_body: str | None = None


@dataclass(frozen=True)
class Notifications:
    slack: SlackProvider | None = None
    webhook: WebhookProvider | None = None
    email: EmailProvider | None = None
    twilio: TwilioProvider | None = None
    pagerduty: PagerDutyProvider | None = None
    fallback: tuple[str, ...] = ()  # user ids
    templates: MessageTemplates = field(default_factory=MessageTemplates)
    failover_after_minutes: float = DEFAULT_FAILOVER_AFTER_MINUTES
    rate_limits: tuple[RateLimit, ...] = ()  # one per channel at most

    def rate_limit(self, channel: str) -> RateLimit | None:
        return next((limit for limit in self.rate_limits if limit.channel == channel), None)

    @property
    def real_channels(self) -> tuple[str, ...]:
        """Channels with a provider configured, beside the console."""
        found: list[str] = []
        if self.slack is not None:
            found.append("slack")
        if self.webhook is not None:
            found.append("webhook")
        if self.email is not None:
            found.append("email")
        if self.twilio is not None:
            found += ["sms", "phone"]
        if self.pagerduty is not None:
            found.append("pagerduty")
        return tuple(found)


@dataclass(frozen=True)
class SelfMonitoring:
    """How Tocsin watches itself (the file's `self_monitoring`).

    `max_lag_minutes` is how late due work, or the engine's last pass, may be
    before /healthz fails. With `heartbeat_url` set the engine pings that URL
    every `heartbeat_every_minutes` while it is healthy: a dead man's switch
    for an outside monitor. The URL usually holds a secret; it is never logged.
    """

    heartbeat_url: str | None = None
    heartbeat_every_minutes: float = 1.0
    heartbeat_method: Literal["get", "post"] = "get"
    max_lag_minutes: float = 1.0
    timeout_seconds: float = 5.0


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
    target_mttr_minutes: float = 0.0  # always a float, as written or by default
    urgency: Urgency = "high"
    # Paged on declare beside the affected services' on-call (a leadership list).
    notify: tuple[Target, ...] = ()
    postmortem_required: bool = False
    postmortem_due_days: float | None = None
    # The commander is reminded when no update was posted for this long; None: never.
    update_every_minutes: float | None = None


DEFAULT_SEVERITIES: tuple[Severity, ...] = (
    Severity("SEV1", "Critical: full outage, all users affected", 30.0, "high",
             postmortem_required=True, postmortem_due_days=5, update_every_minutes=30),
    Severity("SEV2", "Major: partial outage, many users affected", 60.0, "high",
             postmortem_required=True, postmortem_due_days=5, update_every_minutes=60),
    Severity("SEV3", "Minor: degraded service, some users affected", 240.0, "high"),
    Severity("SEV4", "Low: cosmetic issue, workaround available", 1440.0, "low"),
)
# What a severity written without these keys gets, by its name (SEV1 and SEV2 only).
SEVERITY_DEFAULTS: dict[str, Severity] = {s.name: s for s in DEFAULT_SEVERITIES[:2]}


@dataclass(frozen=True)
class IncidentRole:
    name: str  # "Commander"; matched ignoring case
    duty: str  # one line, shown when the role is assigned


DEFAULT_ROLES: tuple[IncidentRole, ...] = (
    IncidentRole("Commander", "Leads the response: decides, delegates and keeps everyone "
                 "on one plan."),
    IncidentRole("Communicator", "Posts updates to stakeholders and customers on schedule."),
    IncidentRole("Investigator", "Finds the cause and tries fixes, saying what they try."),
    IncidentRole("Scribe", "Keeps the timeline: notes decisions, findings and times."),
)

DEFAULT_CHANNEL_NAME = "inc-{year}-{number:04d}"


@dataclass(frozen=True)
class Stakeholders:
    """People and Slack channels told of an incident's updates, never paged.

    They hear of incidents touching one of `services` at one of `severities`;
    an empty list matches every service or severity. `users` holds user ids,
    the members of `teams` are told too.
    """

    services: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    slack_channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentSettings:
    """The file's `incidents:` section."""

    channel_name: str = DEFAULT_CHANNEL_NAME
    # Whoever is on call here commands a new incident; None: the declarer.
    commander_schedule: str | None = None
    roles: tuple[IncidentRole, ...] = DEFAULT_ROLES
    stakeholders: tuple[Stakeholders, ...] = ()

    def role(self, name: str) -> IncidentRole | None:
        wanted = name.strip().casefold()
        return next((r for r in self.roles if r.name.casefold() == wanted), None)


@dataclass(frozen=True)
class Component:
    """A status page component from the file's `components:` list (docs/status-page.md).

    Components sharing a `group` name show under that group, which shows the
    worst status of its members. An internal one (`public: false`) appears
    only on the internal page and the API, never on the public page or JSON.
    """

    name: str
    description: str = ""
    group: str | None = None
    public: bool = True
    service: str | None = None  # a service under `services:`; maintenance of it shows here


@dataclass(frozen=True)
class ActionItemSettings:
    """The file's `action_items:` section (docs/action-items.md)."""

    remind_before_days: int = 2  # 0: no reminder before the due date
    remind_every_days_overdue: int = 2  # 0: none after the due date
    remind_at: time = time(9, 0)  # the owner's local time of day for reminders
    digest_day: Weekday = "mon"
    digest_time: time = time(9, 0)  # in the file's timezone
    digest_enabled: bool = True


@dataclass(frozen=True)
class JiraTracker:
    base_url: str
    project: str
    email: str
    token: str
    issue_type: str = "Task"
    api_version: int = 2  # 3: Jira Cloud's v3, whose description is a rich-text document


@dataclass(frozen=True)
class GitHubTracker:
    repo: str  # owner/name
    token: str
    base_url: str = "https://api.github.com"


@dataclass(frozen=True)
class WebhookTracker:
    url: str
    secret: str


@dataclass(frozen=True)
class Trackers:
    """The file's `trackers:` section: where action items may be pushed."""

    jira: JiraTracker | None = None
    github: GitHubTracker | None = None
    webhook: WebhookTracker | None = None
    sync_every_minutes: float = 10.0

    def names(self) -> list[str]:
        return [name for name in ("jira", "github", "webhook") if getattr(self, name)]


DEFAULT_ROOT_CAUSE_CATEGORIES: tuple[str, ...] = (
    "capacity", "configuration change", "deployment", "dependency", "hardware",
    "software bug", "unknown")


@dataclass(frozen=True)
class PostmortemSettings:
    """The file's `postmortems:` section (docs/postmortems.md)."""

    template_path: str | None = None  # resolved; None: the template Tocsin ships
    template: str | None = None  # that file's text, validated when the file was loaded
    root_cause_categories: tuple[str, ...] = DEFAULT_ROOT_CAUSE_CATEGORIES


@dataclass(frozen=True)
class StatusPageSettings:
    """The file's `status_page:` section."""

    title: str = "Status"
    time_zone: str | None = None  # None: the file's `timezone`
    # Requests for this host name see only the status page, at / (docs/status-page.md).
    public_host: str | None = None
    # `tocsin serve` also listens here, serving only the status page, at /.
    public_port: int | None = None
    # A maintenance window shows as verifying this long after its end; 0: never.
    verifying_minutes: float = 0


@dataclass(frozen=True)
class SurveySettings:
    """The file's `surveys:` section (docs/surveys.md)."""

    enabled: bool = True
    after_shift_minutes: float = 0  # how long after a shift ends its survey goes


@dataclass(frozen=True)
class MetricsSettings:
    """The file's `metrics:` section (docs/metrics.md)."""

    # (severity, outage status): incidents of these severities put a service with no
    # status page component in that outage. DESIGN.md: SEV1 major, SEV2 partial.
    outage_severities: tuple[tuple[str, str], ...] = (
        ("SEV1", "major_outage"), ("SEV2", "partial_outage"))
    # Publish the report's headline figures as tocsin_report_* gauges on /metrics, an
    # endpoint without authentication: business figures, so only when asked.
    report_gauges: bool = False


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
    heartbeats: dict[str, Heartbeat] = field(default_factory=dict)
    maintenance: tuple[MaintenanceWindow, ...] = ()
    flapping: Flapping | None = field(default_factory=Flapping)  # None: off
    # The storm limit for alerts no route of the file took (a service's policy).
    storm: int | None = DEFAULT_STORM_PER_MINUTE
    self_monitoring: SelfMonitoring = field(default_factory=SelfMonitoring)
    incidents: IncidentSettings = field(default_factory=IncidentSettings)
    components: tuple[Component, ...] = ()
    status_page: StatusPageSettings = field(default_factory=StatusPageSettings)
    postmortems: PostmortemSettings = field(default_factory=PostmortemSettings)
    action_items: ActionItemSettings = field(default_factory=ActionItemSettings)
    trackers: Trackers = field(default_factory=Trackers)
    surveys: SurveySettings = field(default_factory=SurveySettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)

    def user_by_email_or_id(self, name: str) -> User | None:
        if name in self.users:
            return self.users[name]
        for user in self.users.values():
            if user.email == name:
                return user
        return None

    def user_by_contact(self, channel: str, address: str) -> User | None:
        """The first listed user with this contact; numbers compare in E.164 form.

        A shared contact makes this the first user in the file (`tocsin check` warns).
        """
        wanted = contact_key(channel, address)
        if wanted is None:
            return None
        for user in self.users.values():
            theirs = user.contacts.get(channel)
            if theirs is not None and contact_key(channel, theirs) == wanted:
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


def contact_key(channel: str, address: str) -> str | None:
    """What makes two contacts the same: a number's E.164 form, else the text itself."""
    return e164(address) if channel in ("sms", "phone") else address
