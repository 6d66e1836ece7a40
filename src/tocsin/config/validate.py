"""Checks that need the whole file, and the `Config` built from what passed.

Every section has been read by then, so a name defined on line 80 can be
used on line 10. A problem is recorded and the build carries on, so one
run reports everything; the model built from a file with errors is thrown
away by the caller.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from tocsin.config.contact_forms import check_account_sid, check_slack_id
from tocsin.config.fields import check_field_map
from tocsin.config.flapping import read_flapping
from tocsin.config.incidents import build_incidents, build_severity, check_declare_severity
from tocsin.config.maintenance import build_maintenance
from tocsin.config.metrics import build_metrics
from tocsin.config.model import (
    CONTACT_CHANNELS,
    DEFAULT_SEVERITIES,
    DEFAULT_STORM_PER_MINUTE,
    EMAIL_PORTS,
    WEEKDAYS,
    ApiToken,
    Config,
    EmailProvider,
    EscalationPolicy,
    Flapping,
    Heartbeat,
    Integration,
    MessageTemplates,
    Notifications,
    PagerDutyProvider,
    Restriction,
    Route,
    SelfMonitoring,
    Service,
    Severity,
    SlackProvider,
    Step,
    Target,
    Team,
    TwilioProvider,
    User,
    WebhookProvider,
    WorkingHours,
)
from tocsin.config.names import ANY_TARGET, NOUN, STEP_TARGET, USER, Names, listed
from tocsin.config.notification_rules import read_notification_rules
from tocsin.config.pacing import read_pacing
from tocsin.config.phones import e164
from tocsin.config.postmortems import build_postmortems
from tocsin.config.schedules import build_schedules
from tocsin.config.schema import Fields, Items, Problems, Spot, closest
from tocsin.config.statuspage import build_components, build_status_page
from tocsin.config.storms import parent_storm, storm_limit
from tocsin.config.surveys import build_surveys
from tocsin.config.trackers import build_action_items, build_trackers

ROUTE_CHANNELS: tuple[str, ...] = (*CONTACT_CHANNELS, "console")
# The key under `notifications` that sends each contact channel.
_PROVIDER_OF = {"slack": "slack", "webhook": "webhook", "email": "email",
                "sms": "twilio", "phone": "twilio", "pagerduty": "pagerduty"}
_EMAIL = re.compile(r"[^@\s<>,\"]+@[^@\s<>,\"]+")
# A heartbeat's grace defaults to its interval, but never more than an hour: a daily
# job that misses its run pages 25 hours after its last ping, not 48.
_GRACE_CAP_MINUTES = 60


def build_config(top: Fields, file: str, problems: Problems) -> Config:
    return _Builder(top, problems).build(file)


class _Builder:
    def __init__(self, top: Fields, problems: Problems) -> None:
        self.top = top
        self.problems = problems
        self.names = Names(top, problems)
        self.users: dict[str, User] = {}
        self.policies: dict[str, EscalationPolicy] = {}
        self.severities: tuple[Severity, ...] = DEFAULT_SEVERITIES
        self.storm = storm_limit(top, DEFAULT_STORM_PER_MINUTE)
        self.flapping = read_flapping(top, Flapping(), problems)
        notifications: Fields | None = top.get("notifications")
        self.providers = [
            channel
            for channel in ("slack", "webhook", "email", "twilio", "pagerduty")
            if notifications is not None and notifications.written(channel)
        ]

    def build(self, file: str) -> Config:
        self._add_users()
        schedules = build_schedules(self.top, self.names, self.problems)
        self._add_policies()
        services = self._services()
        teams = self._teams(services)
        self.severities = self._severities(teams)
        routes = self._routes()
        return Config(
            path=file,
            timezone=self.top.get("timezone", "UTC"),
            public_url=self.top.get("public_url", Config.public_url),
            teams=teams,
            services=services,
            schedules=schedules,
            routes=routes,
            escalation_policies=self.policies,
            integrations=self._integrations(services),
            heartbeats=self._heartbeats(services),
            maintenance=build_maintenance(self.top, self.problems, services),
            notifications=self._notifications(),
            api_tokens=self._api_tokens(),
            severities=self.severities,
            incidents=build_incidents(self.top, self.names, self.problems, services,
                                      self.severities),
            components=build_components(self.top, self.problems, services),
            status_page=build_status_page(self.top),
            postmortems=build_postmortems(self.top, file, self.problems),
            action_items=build_action_items(self.top),
            trackers=build_trackers(self.top, self.problems),
            surveys=build_surveys(self.top),
            metrics=build_metrics(self.top, self.problems, self.severities),
            working_hours=_working_hours(self.top.get("working_hours")),
            storm=self.storm,
            flapping=self.flapping,
            self_monitoring=_self_monitoring(self.top.get("self_monitoring")),
            # Last: resolving the sections above adds the implicit users.
            users={**self.users, **self.names.implicit_users},
        )

    def _unknown_service(self, name: str, spot: Spot, services: dict[str, Service]) -> None:
        match = closest(name, list(services))
        defined = f"defined: {', '.join(services)}" if services else "none is defined yet"
        known = f"did you mean '{match}'?" if match else defined
        self.problems.error(
            spot,
            f"unknown service '{name}'",
            f"define it under services, or use a defined name ({known})",
        )

    def _check_unique(
        self, entries: list[Fields], key: str, noun: str, *, secret: bool = False
    ) -> None:
        firsts: dict[str, Fields] = {}
        for entry in entries:
            value = entry.get(key)
            if value is None:
                continue
            # Severities are looked up ignoring case, so they must differ by more than case.
            first = firsts.setdefault(value.lower() if noun == "severity" else value, entry)
            if first is not entry:
                # A secret is never echoed: `tocsin check` output ends up in CI logs.
                shown = "" if secret else f" '{value}'"
                self.problems.error(
                    entry.at(key),
                    f"duplicate {key}{shown}: the {noun} at line {first.at(key).line} has it",
                    f"give each {noun} its own {key}",
                )

    def _check_channel(self, channel: str, spot: Spot, where: str) -> None:
        provider = _PROVIDER_OF.get(channel)
        if provider is not None and provider not in self.providers:
            self.problems.warning(
                spot,
                f"no {provider} provider is configured, so {where} skip it",
                f"add notifications.{provider}, or remove {channel} here",
            )

    def _check_address(self, channel: str, address: str, spot: Spot) -> None:
        """An error for a contact its provider could never send to: found now, not at 3 a.m."""
        if channel in ("sms", "phone") and "twilio" in self.providers and e164(address) is None:
            self.problems.error(
                spot, f"'{address}' is not a phone number in E.164 form",
                'write + then the country code and number, such as "+15550100"',
            )
        elif channel == "email" and "email" in self.providers and not _EMAIL.fullmatch(address):
            self.problems.error(spot, f"'{address}' is not an e-mail address",
                                "write it as name@domain")
        elif channel == "slack":
            check_slack_id(self.problems, address, spot)

    # Sections.

    def _add_users(self) -> None:
        shared = _SharedContacts(self.problems)
        for entry in listed(self.top, "users"):
            contacts: Fields = entry.get("contacts", Fields(entry.spot))
            for channel, address in contacts.values.items():
                self._check_channel(channel, contacts.at(channel), "pages to this user")
                self._check_address(channel, address, contacts.at(channel))
            user_id = entry.get("id")
            if user_id is not None:
                shared.check(user_id, contacts)
            if user_id is not None and user_id not in self.users:
                self.users[user_id] = User(
                    id=user_id,
                    email=entry.get("email"),
                    name=entry.get("name"),
                    timezone=entry.get("timezone"),
                    contacts=dict(contacts.values),
                    notification_rules=read_notification_rules(
                        entry, dict(contacts.values), self.problems, self._check_channel),
                )

    def _add_policies(self) -> None:
        for entry in listed(self.top, "escalation_policies"):
            steps = [self._step(step) for step in listed(entry, "steps")]
            self._check_escalation(entry)
            name = entry.get("name")
            if name is not None and steps:
                policy = EscalationPolicy(
                    name=name,
                    steps=tuple(steps),
                    repeat=entry.get("repeat", 0),
                    ack_timeout_minutes=entry.get("ack_timeout_minutes"),
                )
                self.policies.setdefault(name, policy)

    def _step(self, entry: Fields) -> Step:
        items: Items | None = entry.get("targets")
        targets = [
            self.names.target(name, spot, STEP_TARGET, "a step target")
            for spot, name in (items.each() if items is not None else ())
        ]
        found = tuple(target for target in targets if target is not None)
        return Step(targets=found, timeout_minutes=entry.get("timeout_minutes", 0))

    def _check_escalation(self, entry: Fields) -> None:
        steps = listed(entry, "steps")
        for step in steps:
            timeout = _timeout(step)
            if timeout is not None and 0 < timeout < 1:
                _warn_short(self.problems, step.at("timeout_minutes"), timeout)
        for step in steps[:-1]:
            if _timeout(step) == 0:
                self.problems.error(
                    step.at("timeout_minutes"),
                    "a step before the last has timeout_minutes 0 (or none), "
                    "so the next step would start at once",
                    "put this step's targets in one step with the next, "
                    "or give it a timeout above 0",
                )
        repeat = entry.get("repeat", 0)
        if repeat > 0 and steps and _timeout(steps[-1]) == 0:
            self.problems.error(
                entry.at("repeat"),
                f"repeat: {repeat} needs the last step's timeout_minutes above 0 "
                "(it is the wait before the next pass)",
                "give the last step a timeout_minutes above 0, or remove repeat",
            )
        ack = entry.get("ack_timeout_minutes")
        if ack is not None and ack < 1:
            _warn_short(self.problems, entry.at("ack_timeout_minutes"), ack)

    def _routes(self) -> tuple[Route, ...]:
        return self._route_list(listed(self.top, "routes"), "routes", None)

    def _conditions_failed(self, entry: Fields) -> bool:
        # A route whose patterns were refused was meant for some alerts, not all.
        return any(self.problems.has_errors_under(entry.at(key).path)
                   for key in ("match", "match_re"))

    def _route_list(
        self, entries: list[Fields], path: str, parent: Route | None,
    ) -> tuple[Route, ...]:
        """One level of the tree; `parent` is the route the entries are nested in."""
        for entry in entries[:-1]:
            # With continue the routes after a catch-all still see every alert.
            if (_is_catch_all(entry) and not entry.get("continue", False)
                    and not self._conditions_failed(entry)):
                self.problems.warning(
                    entry.spot,
                    "this route matches every alert, so the routes after it never match",
                    "move it to the end of routes",
                )
        # Nested routes may leave alerts to their parent; only the top must catch all.
        # A catch-all with continue takes every alert too, wherever it is.
        caught = any(_is_catch_all(entry) and entry.get("continue", False) for entry in entries)
        if parent is None and entries and not _is_catch_all(entries[-1]) and not caught:
            self.problems.warning(
                entries[-1].spot,
                "no catch-all route: an alert that matches no route reaches only the "
                "fallback contact",
                "add a last route with no match or match_re, e.g. - notify: production-critical",
            )
        routes = [
            self._route(entry, f"{path}[{index}]", parent) for index, entry in enumerate(entries)
        ]
        return tuple(route for route in routes if route is not None)

    def _route(self, entry: Fields, path: str, parent: Route | None) -> Route | None:
        channels: Items | None = entry.get("channels")
        for spot, channel in channels.each() if channels is not None else ():
            self._check_channel(channel, spot, "this route's pages")
        target = self._route_target(entry, parent)
        active = _active_window(entry, self.problems)
        if target is None and not entry.written("routes"):
            return None
        route = Route(
            notify=target,
            match=entry.get("match", {}),
            match_re=entry.get("match_re", {}),
            channels=tuple(channels.values) if channels is not None else (
                parent.channels if parent else None),
            urgency=entry.get("urgency", parent.urgency if parent else None),
            flapping=read_flapping(entry, parent.flapping if parent else self.flapping,
                                   self.problems),
            line=entry.spot.line,
            active=active,
            path=path,
            group_by=entry.get("group_by", parent.group_by if parent else ()),
            continues=entry.get("continue", False),
            storm=storm_limit(entry, parent_storm(parent, self.storm)),
            declare_incident=check_declare_severity(entry, self.severities, self.problems)
            or (parent.declare_incident if parent else None),
        )
        nested: Items | None = entry.get("routes")
        if nested is None:
            return route
        children = self._route_list(list(nested.values), f"{path}.routes", route)
        return dataclasses.replace(route, routes=children)

    def _route_target(self, entry: Fields, parent: Route | None) -> Target | None:
        """The route's own notify, else its parent's; reported when neither exists."""
        notify = entry.get("notify")
        if notify is None:
            inherited = parent.notify if parent is not None else None
            if entry.written("notify") or inherited is not None or entry.written("routes"):
                return inherited
            self.problems.error(
                entry.spot, "missing required key 'notify'",
                "add notify: production-critical (a policy, a schedule or a user)"
                + ("; the route it is nested in notifies nobody" if parent else ""),
            )
            return None
        spot = entry.at("notify")
        target = self.names.target(notify, spot, ANY_TARGET, "notify")
        if target is not None and target.kind != "escalation_policy":
            self._add_implicit_policy(target, spot)
        return target

    def _add_implicit_policy(self, target: Target, spot: Spot) -> None:
        name = f"implicit:{target.name}"
        step = Step(targets=(target,), timeout_minutes=0)
        self.policies.setdefault(name, EscalationPolicy(name, (step,), implicit=True))
        self.problems.warning(
            spot,
            f"route notifies {NOUN[target.kind]} '{target.name}' directly; it has no escalation",
            "notify an escalation policy instead if an unanswered page should go further",
        )

    def _services(self) -> dict[str, Service]:
        entries = listed(self.top, "services")
        self._check_unique(entries, "name", "service")
        services: dict[str, Service] = {}
        for entry in entries:
            policy = self.names.ref(
                entry, "escalation_policy", ("escalation_policy",), "a service's policy"
            )
            team = self.names.ref(entry, "team", ("team",), "a service's team")
            name = entry.get("name")
            if name is not None:
                services.setdefault(name, Service(name, policy, team))
        return services

    def _teams(self, services: dict[str, Service]) -> dict[str, Team]:
        teams: dict[str, Team] = {}
        for entry in listed(self.top, "teams"):
            members = self.names.user_ids(entry.get("members"), "a team member")
            items: Items | None = entry.get("services")
            for spot, service in items.each() if items is not None else ():
                if service not in services:
                    self._unknown_service(service, spot, services)
            name = entry.get("name")
            if name is not None:
                named = tuple(items.values) if items is not None else ()
                teams.setdefault(name, Team(name, members, named))
        return teams

    def _integrations(self, services: dict[str, Service]) -> tuple[Integration, ...]:
        entries = listed(self.top, "integrations")
        self._check_unique(entries, "name", "integration")
        self._check_unique(entries, "key", "integration", secret=True)
        found = []
        for entry in entries:
            service = entry.get("service")
            if service is not None and service not in services:
                self._unknown_service(service, entry.at("service"), services)
            name, kind, key = entry.get("name"), entry.get("type"), entry.get("key")
            fields = check_field_map(entry.get("fields"), kind, self.problems)
            if name is not None and kind is not None and key is not None:
                found.append(Integration(name=name, type=kind, key=key, service=service,
                                         max_body_kib=entry.get("max_body_kib"), fields=fields))
        return tuple(found)

    def _heartbeats(self, services: dict[str, Service]) -> dict[str, Heartbeat]:
        entries = listed(self.top, "heartbeats")
        self._check_unique(entries, "name", "heartbeat")
        tokens = listed(self.top, "api_tokens")
        writers = [token for token in tokens if token.get("scope", "write") != "read"]
        found: dict[str, Heartbeat] = {}
        for entry in entries:
            service = entry.get("service")
            if service is not None and service not in services:
                self._unknown_service(service, entry.at("service"), services)
            if not entry.written("key") and not writers:
                self.problems.warning(
                    entry.spot,
                    "this heartbeat has no key and no api token of write scope exists, "
                    "so nothing can ping it",
                    'add key: "${HEARTBEAT_KEY}" to it, or an api token of scope write',
                )
            name, interval = entry.get("name"), entry.get("interval_minutes")
            if interval is not None and interval < 1:
                _warn_short(self.problems, entry.at("interval_minutes"), interval)
            grace = entry.get("grace_minutes")
            if grace is not None and 0 < grace < 1:
                _warn_short(self.problems, entry.at("grace_minutes"), grace)
            if name is None or interval is None:
                continue
            found.setdefault(name, Heartbeat(
                name=name, interval_minutes=interval,
                grace_minutes=min(interval, _GRACE_CAP_MINUTES) if grace is None else grace,
                service=service, severity=entry.get("severity", "critical"),
                key=entry.get("key"),
            ))
        return found

    def _notifications(self) -> Notifications:
        entry: Fields | None = self.top.get("notifications")
        if entry is None:
            return Notifications()
        # The key tables in `loader` use the providers' own field names.
        slack = _complete(entry.get("slack"), "token")
        webhook = _complete(entry.get("webhook"), "secret")
        check_account_sid(self.problems, entry.get("twilio"))
        return Notifications(
            slack=None if slack is None else SlackProvider(**slack),
            webhook=None if webhook is None else WebhookProvider(**webhook),
            email=self._email_provider(entry.get("email")),
            twilio=_twilio_provider(entry.get("twilio")),
            pagerduty=_pagerduty_provider(entry.get("pagerduty")),
            fallback=self.names.user_ids(entry.get("fallback"), "a fallback contact"),
            templates=entry.get("templates", MessageTemplates()),
            **read_pacing(entry, self.problems),
        )

    def _email_provider(self, entry: Fields | None) -> EmailProvider | None:
        if entry is None:
            return None
        has_user, has_password = entry.written("username"), entry.written("password")
        if has_user != has_password:
            missing = "password" if has_user else "username"
            self.problems.error(
                entry.at(missing), f"username and password go together; {missing} is missing",
                f"add {missing}, or remove the other to send without logging in",
            )
        security = entry.get("security", "starttls")
        if security == "none" and has_password:
            self.problems.error(
                entry.at("security"),
                "security: none would send the SMTP password unencrypted",
                "use security: starttls (port 587) or tls (port 465), "
                "or remove username and password",
            )
        values = _complete(entry, "host")
        if values is None or "from" not in values:
            return None
        return EmailProvider(
            host=values["host"], sender=values["from"], security=security,
            port=values.get("port", EMAIL_PORTS[security]),
            username=values.get("username"), password=values.get("password"),
            timeout_seconds=values.get("timeout_seconds", EmailProvider.timeout_seconds),
        )

    def _api_tokens(self) -> tuple[ApiToken, ...]:
        entries = listed(self.top, "api_tokens")
        self._check_unique(entries, "name", "api token")
        self._check_unique(entries, "token", "api token", secret=True)
        tokens = []
        for entry in entries:
            user = self.names.ref(entry, "user", USER, "a token's user",
                                  unlisted="the token will act as an e-mail-only person")
            name, token = entry.get("name"), entry.get("token")
            if name is not None and token is not None:
                tokens.append(ApiToken(name, token, user, entry.get("scope", "write")))
        return tuple(tokens)

    def _severities(self, teams: dict[str, Team]) -> tuple[Severity, ...]:
        if not self.top.written("severities"):
            return DEFAULT_SEVERITIES
        entries = listed(self.top, "severities")
        self._check_unique(entries, "name", "severity")
        return tuple(build_severity(entry, self.names, teams)
                     for entry in entries if entry.get("name"))


class _SharedContacts:
    """Warns of a number or Slack member id two users share: answers from it act as one.

    A reply is credited to the first user listed with the number (by text) or
    the member id (by a click). A shared team phone is legitimate, so this is
    a warning, not an error.
    """

    _NUMBERS = ("sms", "phone")

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        # contact -> (user, channel, line) of the first user listed with it
        self.first: dict[tuple[str, str], tuple[str, str, int]] = {}

    def check(self, user_id: str, contacts: Fields) -> None:
        for channel, address in contacts.values.items():
            if not isinstance(address, str):
                continue
            if channel in self._NUMBERS:
                number = e164(address)
                key = ("number", number) if number is not None else None
            elif channel == "slack":
                key = ("slack", address.strip())
            else:
                key = None
            if key is None:
                continue
            spot = contacts.at(channel)
            first = self.first.setdefault(key, (user_id, channel, spot.line))
            if first[0] != user_id:
                self._warn(user_id, channel, address, spot, first)

    def _warn(self, user_id: str, channel: str, address: str, spot: Spot,
              first: tuple[str, str, int]) -> None:
        first_user, first_channel, first_line = first
        if channel == "slack":
            what = f"Slack member id '{address}'"
            happens = f"a click from this Slack member acts as the first listed user, {first_user}"
        elif channel == first_channel == "sms":
            what = f"sms number '{address}'"
            happens = f"a reply from this number acts as the first listed user, {first_user}"
        else:
            what = f"{channel} number '{address}'"
            happens = "both people's pages go to this one phone"
        self.problems.warning(
            spot,
            f"{user_id}'s {what} is also {first_user}'s {first_channel} (line {first_line}): "
            f"{happens}",
            "give each person their own contact",
        )


def _self_monitoring(entry: Fields | None) -> SelfMonitoring:
    """The file's self-monitoring settings, each key left out taking the default."""
    default = SelfMonitoring()
    if entry is None:
        return default
    return SelfMonitoring(
        heartbeat_url=entry.get("heartbeat_url"),
        heartbeat_every_minutes=entry.get("heartbeat_every_minutes",
                                          default.heartbeat_every_minutes),
        heartbeat_method=entry.get("heartbeat_method", default.heartbeat_method),
        max_lag_minutes=entry.get("max_lag_minutes", default.max_lag_minutes),
        timeout_seconds=entry.get("timeout_seconds", default.timeout_seconds),
    )


def _working_hours(entry: Fields | None) -> WorkingHours:
    """The file's working hours, each key left out taking the default."""
    default = WorkingHours()
    if entry is None:
        return default
    business = entry.get("business", default.business)
    sleep = entry.get("sleep", default.sleep)
    days: Items | None = entry.get("days")
    # Week order, once each: the same hours however the days were listed.
    chosen = set(days.values) if days is not None else set(default.days)
    return WorkingHours(
        business_start=business[0],
        business_end=business[1],
        sleep_start=sleep[0],
        sleep_end=sleep[1],
        days=tuple(day for day in WEEKDAYS if day in chosen),
    )


def _timeout(step: Fields) -> float | None:
    """A step's timeout, 0 when absent; None when written but invalid."""
    if step.written("timeout_minutes") and step.get("timeout_minutes") is None:
        return None
    return float(step.get("timeout_minutes", 0))


def _warn_short(problems: Problems, spot: Spot, minutes: float) -> None:
    problems.warning(
        spot,
        f"{minutes:g} minutes is under one minute",
        "fine in tests; use whole minutes in production",
    )


def _active_window(entry: Fields, problems: Problems) -> Restriction | None:
    window: Fields | None = entry.get("active")
    if window is None:
        return None
    start, end, days = window.get("from"), window.get("to"), window.get("days")
    if start is None or end is None:
        return None
    if start == end:
        problems.error(
            window.at("to"), f"from and to are both {start:%H:%M}",
            "remove active to keep the route on all day, or pick different times "
            '(to before from runs overnight: from: "18:00", to: "09:00")',
        )
        return None
    chosen = set(days.values) if days is not None else set()
    return Restriction(start, end, tuple(day for day in WEEKDAYS if day in chosen))


def _is_catch_all(route: Fields) -> bool:
    # An invalid match (None) still counts as a condition: the route was not meant for all.
    return all(route.get(key) == {} or not route.written(key) for key in ("match", "match_re"))


def _twilio_provider(entry: Fields | None) -> TwilioProvider | None:
    values = _complete(entry, "account_sid")
    if values is None or not {"auth_token", "from"} <= values.keys():
        return None
    return TwilioProvider(
        account_sid=values["account_sid"], auth_token=values["auth_token"],
        sender=values["from"], api_url=values.get("api_url", TwilioProvider.api_url),
        status_callback_url=values.get("status_callback_url"),
        timeout_seconds=values.get("timeout_seconds", TwilioProvider.timeout_seconds),
    )


def _pagerduty_provider(entry: Fields | None) -> PagerDutyProvider | None:
    # Every key has a default: `pagerduty: {}` forwards to PagerDuty itself.
    if entry is None:
        return None
    return PagerDutyProvider(**entry.values)


def _complete(fields: Fields | None, required: str) -> dict[str, Any] | None:
    return None if fields is None or required not in fields.values else dict(fields.values)
