"""What `/incident` and `/page` understand, and the one-line fix for what they do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.incidents.commands import (
    AddResponder,
    AssignRole,
    Create,
    Help,
    Impact,
    Mention,
    Mitigated,
    Note,
    PageCommand,
    SetSeverity,
    SetStatus,
    Update,
    Usage,
    help_text,
    parse_incident,
    parse_page,
)

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def parse(text: str) -> object:
    return parse_incident(text, severities=SEVERITIES)


def usage(text: str) -> str:
    found = parse(text)
    assert isinstance(found, Usage), found
    return found.message


@pytest.mark.parametrize("text", [
    'create "Payment API returning 500 errors" sev1',
    "create Payment API returning 500 errors SEV1",
    'create sev1 "Payment API returning 500 errors"',
    "create “Payment API returning 500 errors” Sev1",  # Slack clients curl the quotes
    "declare   Payment  API returning 500 errors\tsev1",
])
def test_create_reads_quoted_or_bare_titles_and_the_severity(text: str):
    assert parse(text) == Create(title="Payment API returning 500 errors", severity="SEV1")


@pytest.mark.parametrize("text", [
    'create "Leaked API key" sev2 private',
    'create private "Leaked API key" SEV2',
    "create Leaked API key private sev2",
    "create Leaked API key sev2 PRIVATE",
])
def test_private_marks_a_security_incident(text: str):
    assert parse(text) == Create(title="Leaked API key", severity="SEV2", private=True)


@pytest.mark.parametrize("text", [
    'create "Checkout down" sev1 service:payment,cart',
    'create service:payment,cart "Checkout down" SEV1',
    "create Checkout down services:payment sev1 service:cart",
])
def test_create_names_the_affected_services(text: str):
    assert parse(text) == Create("Checkout down", "SEV1", services=("payment", "cart"))


def test_create_turns_slack_markup_back_into_what_was_typed():
    found = parse('create "Checkout &amp; cart &lt;down&gt; for <@U0BOB|bob>" SEV2')

    assert found == Create(title="Checkout & cart <down> for @bob", severity="SEV2")


def test_configured_severity_names_are_used_as_written_in_the_config():
    found = parse_incident("create disk full p3", severities=("P1", "P2", "P3"))

    assert found == Create(title="disk full", severity="P3")


@pytest.mark.parametrize(("text", "fix"), [
    ("create Payment API down", "Say how bad it is with a severity (SEV1, SEV2, SEV3, SEV4)"),
    ("create Payment API down SEV9", "`SEV9` is not a severity here"),
    ('create "Payment API down', "The title's quote is not closed"),
    ('create "Payment API down" sev1 now', "not `now`"),
    ('create "Payment API down" sev1 sev2', "not `sev2`"),
    ("create sev1", "Give the incident a title"),
    ("create", "Give the incident a title"),
    ('create "   " sev1', "Give the incident a title"),
    ("create " + "x" * 201 + " sev1", "keep it to 200"),
    ("INC-4 create db down sev1", "leave out the id"),
])
def test_a_malformed_declare_says_what_to_fix(text: str, fix: str):
    message = usage(text)

    assert fix in message
    assert '/incident create "TITLE" SEVERITY' in message


def test_role_takes_a_slack_mention_an_at_name_or_a_bare_name():
    assert parse("role commander <@U0BOB|bob>") == AssignRole(
        None, "commander", Mention("bob", "U0BOB"))
    assert parse("role Scribe <@U0BOB>") == AssignRole(None, "scribe", Mention("U0BOB", "U0BOB"))
    assert parse("role commander @bob") == AssignRole(None, "commander", Mention("bob"))
    assert parse("role commander bob@company.com") == AssignRole(
        None, "commander", Mention("bob@company.com"))


def test_outside_the_channel_the_incident_is_named_after_the_verb_or_before_it():
    assert parse("note INC-142 rolled back the deploy") == Note("INC-142", "rolled back the deploy")
    assert parse("inc-142 status identified") == SetStatus("INC-142", "identified")
    assert parse("role inc142 commander @bob") == AssignRole(
        "INC-142", "commander", Mention("bob"))
    assert parse("resolve INC-7") == SetStatus("INC-7", "resolved")


@pytest.mark.parametrize(("text", "command"), [
    ("status identified", SetStatus(None, "identified")),
    ("status MONITORING fix is out", SetStatus(None, "monitoring", "fix is out")),
    ("severity sev2", SetSeverity(None, "SEV2")),
    ("mitigated", Mitigated(None)),
    ("resolve", SetStatus(None, "resolved")),
    ("resolve rolled back 4.2.1", SetStatus(None, "resolved", "rolled back 4.2.1")),
    ("note  db failover started  ", Note(None, "db failover started")),
    ("update Payments are degraded; next update in 30 min",
     Update(None, "Payments are degraded; next update in 30 min")),
    ("impact EU card payments fail", Impact(None, "EU card payments fail")),
    ("responder primary-oncall", AddResponder(None, Mention("primary-oncall"))),
    ("responder <@U0ALICE|alice>", AddResponder(None, Mention("alice", "U0ALICE"))),
    ("help", Help()),
    ("", Help()),
    ("   ", Help()),
])
def test_each_verb(text: str, command: object):
    assert parse(text) == command


@pytest.mark.parametrize(("text", "fix"), [
    ("frobnicate now", "`frobnicate` is not an /incident command"),
    ("role commander", "`/incident role ROLE @person`"),
    ("role commander @bob @carol", "Name one role and one person"),
    ("status fixed", "Choose a status: investigating, identified, monitoring, resolved"),
    ("status", "Choose a status"),
    ("severity sev9", "Choose one of SEV1, SEV2, SEV3, SEV4"),
    ("note", "`/incident note TEXT`"),
    ("update INC-3", "`/incident update TEXT`"),
    ("responder", "Name one person, schedule or policy"),
    ("responder bob and carol", "Name one person, schedule or policy"),
    ("mitigated mostly", "takes no text"),
])
def test_a_malformed_command_names_its_usage(text: str, fix: str):
    assert fix in usage(text)


def test_page_takes_a_target_and_a_message():
    assert parse_page("primary-oncall checkout &amp; cart fail") == PageCommand(
        Mention("primary-oncall"), "checkout & cart fail")
    assert parse_page("<@U0BOB|bob>  look at INC-4") == PageCommand(
        Mention("bob", "U0BOB"), "look at INC-4")


@pytest.mark.parametrize("text", ["", "bob", "   bob   ", "<#C1|ops> hello", "@ hello"])
def test_page_without_a_target_or_message_gives_its_usage(text: str):
    found = parse_page(text)

    assert isinstance(found, Usage)
    assert "/page @person|SCHEDULE|POLICY MESSAGE" in found.message


def test_help_lists_every_verb_and_the_severities():
    text = help_text(SEVERITIES)

    for verb in ("create", "role", "status", "severity", "mitigated", "resolve", "note",
                 "update", "impact", "responder"):
        assert f"/incident {verb}" in text
    assert "SEV1, SEV2, SEV3, SEV4" in text


# Text made of the pieces the parser cares about, in any order.
SLACKISH = st.lists(st.sampled_from([
    *"abcINC-142 \t\n\"“”«»<>@|&;#!^", "sev1", "SEV2", "&amp;", "<@U1|b>", "create ", "role ",
    "note ", "status ", "resolve "])).map("".join)


@given(st.one_of(st.text(), SLACKISH))
def test_any_incident_text_is_a_command_or_a_usage_line(text: str):
    found = parse(text)

    if isinstance(found, Usage):
        assert found.message and "\n" not in found.message
    else:
        assert isinstance(found, Create | AssignRole | SetStatus | SetSeverity | Mitigated
                          | Note | Update | Impact | AddResponder | Help)
    if isinstance(found, Create):
        assert found.title and found.title == found.title.strip()
        assert found.severity in SEVERITIES


@given(st.one_of(st.text(), SLACKISH))
def test_any_page_text_is_a_page_or_a_usage_line(text: str):
    found = parse_page(text)

    assert isinstance(found, PageCommand | Usage)
    if isinstance(found, PageCommand):
        assert found.message.strip() and found.target.name


@given(title=st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                                   blacklist_characters="\"“”„«»<>&"),
                     min_size=1, max_size=60),
       severity=st.sampled_from(SEVERITIES))
def test_a_quoted_title_comes_back_as_typed(title: str, severity: str):
    assert parse(f'create "{title}" {severity.lower()}') == Create(title, severity)
