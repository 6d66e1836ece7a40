"""Routes: targets, catch-all, regular expressions and channels without a provider."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, line_of, load, only_error, warnings_at
from tocsin.config.model import EscalationPolicy, Step, Target

ROUTES = BASE.replace(
    "routes:\n  - notify: critical\n",
    """\
routes:
  - match: {severity: critical}
    match_re: {service: "^pay.*"}
    notify: critical
    urgency: low
    channels: [console]
  - notify: critical
""",
)


def test_routes_keep_their_conditions_line_and_target(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, ROUTES)

    first = config.routes[0]
    assert first.match == {"severity": "critical"}
    assert first.match_re == {"service": "^pay.*"}
    assert first.notify == Target("escalation_policy", "critical")
    assert first.urgency == "low"
    assert first.channels == ("console",)
    assert first.line == line_of(ROUTES, "match: {severity")
    assert config.routes[1].channels is None
    assert config.routes[1].urgency is None, "without urgency the alert's severity decides"
    assert warnings == []


def test_a_route_to_a_user_gets_a_one_step_policy_and_a_warning(tmp_path: Path) -> None:
    text = BASE.replace("notify: critical", "notify: bob@company.com")
    config, warnings = load(tmp_path, text)

    assert config.routes[0].notify == Target("user", "bob")
    assert config.escalation_policies["implicit:bob"] == EscalationPolicy(
        name="implicit:bob",
        steps=(Step((Target("user", "bob"),), 0),),
        implicit=True,
    )
    assert warnings_at(warnings, "routes[0].notify") == [
        "route notifies user 'bob' directly; it has no escalation"
    ]


def test_a_route_naming_a_team_is_rejected(tmp_path: Path) -> None:
    text = BASE.replace("notify: critical", "notify: payments") + "teams:\n  - name: payments\n"
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].notify"
    assert problem.message.startswith("'payments' is a team")
    assert "an escalation policy, a schedule or a user" in problem.message


def test_no_catch_all_route_is_a_warning_at_the_last_route(tmp_path: Path) -> None:
    text = ROUTES.replace("  - notify: critical\n", "")
    _, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "routes[0]") == [
        "no catch-all route: an alert that matches no route reaches only the fallback contact"
    ]


def test_a_catch_all_before_other_routes_is_a_warning(tmp_path: Path) -> None:
    text = BASE.replace(
        "routes:\n  - notify: critical\n",
        "routes:\n  - notify: critical\n  - {match: {severity: info}, notify: critical}\n",
    )
    _, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "routes[0]") == [
        "this route matches every alert, so the routes after it never match"
    ]
    assert len(warnings_at(warnings, "routes[1]")) == 1  # and no catch-all at the end


def test_a_match_re_that_does_not_compile_is_rejected(tmp_path: Path) -> None:
    text = ROUTES.replace('"^pay.*"', '"pay(ment"')
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "pay(ment")
    assert problem.path == "routes[0].match_re.service"
    assert problem.message == "bad regular expression: missing ): pay(ment"
    assert "RE2 syntax" in problem.fix


def test_an_unknown_route_channel_is_a_bad_value(tmp_path: Path) -> None:
    text = ROUTES.replace("channels: [console]", "channels: [console, pager]")
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].channels[1]"
    assert problem.message == (
        "bad value 'pager': must be slack, phone, sms, email, webhook, pagerduty or console"
    )


def test_route_channels_without_a_provider_are_warnings(tmp_path: Path) -> None:
    text = ROUTES.replace("channels: [console]", "channels: [slack, webhook, sms, console]")
    _, warnings = load(tmp_path, text)

    assert [(w.path, w.message) for w in warnings] == [
        (
            "routes[0].channels[0]",
            "no slack provider is configured, so this route's pages skip it",
        ),
        (
            "routes[0].channels[1]",
            "no webhook provider is configured, so this route's pages skip it",
        ),
        (
            "routes[0].channels[2]",
            "no twilio provider is configured, so this route's pages skip it",
        ),
    ]
    assert warnings[0].fix == "add notifications.slack, or remove slack here"


def test_configured_providers_silence_the_channel_warnings(tmp_path: Path) -> None:
    text = (
        ROUTES.replace("channels: [console]", "channels: [slack, webhook]")
        + """\
notifications:
  slack: {token: xoxb-1, channel: "#pages"}
  webhook: {secret: s3cr3t, timeout_seconds: 2.5, max_attempts: 3}
"""
    )
    config, warnings = load(tmp_path, text)

    assert warnings == []
    assert config.notifications.real_channels == ("slack", "webhook")
    assert config.notifications.slack is not None
    assert config.notifications.slack.api_url == "https://slack.com/api/"
    assert config.notifications.slack.channel == "#pages"
    assert config.notifications.webhook is not None
    assert config.notifications.webhook.timeout_seconds == 2.5


def test_user_contacts_are_data_but_warn_without_a_provider(tmp_path: Path) -> None:
    text = BASE.replace(
        "name: Alice}",
        "name: Alice, contacts: {slack: U012ABC, email: alice@company.com, phone: '+1555'}}",
    )
    config, warnings = load(tmp_path, text)

    assert config.users["alice"].contacts == {
        "slack": "U012ABC",
        "email": "alice@company.com",
        "phone": "+1555",
    }
    assert [w.path for w in warnings] == [
        "users[0].contacts.slack",
        "users[0].contacts.email",
        "users[0].contacts.phone",
    ]
    assert warnings[2].message == "no twilio provider is configured, so pages to this user skip it"
    assert warnings[2].fix == "add notifications.twilio, or remove phone here"
    assert warnings[1].fix == "add notifications.email, or remove email here"


def test_an_unknown_contact_channel_is_an_unknown_key(tmp_path: Path) -> None:
    text = BASE.replace("name: Alice}", "name: Alice, contacts: {slak: U012ABC}}")
    problem = only_error(tmp_path, text)

    assert problem.path == "users[0].contacts.slak"
    assert problem.fix == "did you mean 'slack'?"
