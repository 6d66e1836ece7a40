"""Pure post-mortem rules: blame suggestions, the review states and the Markdown export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.config.postmortems import SAMPLE_CONTEXT
from tocsin.incidents.rules import TimelineEntry
from tocsin.postmortems import blame, rules
from tocsin.postmortems.service import default_template

PEOPLE = [blame.Person("alice", "Alice Archer", "alice@example.com"),
          blame.Person("will", "Will Smith"), blame.Person("vp", "Vera")]
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def _flags(text: str, where: str = "root_cause") -> list[tuple[str, str]]:
    return [(s.sentence, s.reason) for s in blame.suggestions({where: text}, PEOPLE)]


def test_sentences_naming_a_person_are_flagged_with_a_rewording() -> None:
    found = blame.suggestions({"root_cause": "The pool ran dry. Alice Archer pushed the flag."},
                              PEOPLE)
    assert [(s.field, s.sentence, s.reason) for s in found] == [
        ("root_cause", "Alice Archer pushed the flag.", "names a person (Alice Archer)")]
    assert "the on-call engineer" in found[0].hint
    assert _flags("Paged @carol twice") == [("Paged @carol twice", "names a person (@carol)")]
    assert _flags("Mail went to alice@example.com") == [
        ("Mail went to alice@example.com", "names a person (alice@example.com)")]
    assert _flags("ALICE restarted it") == [("ALICE restarted it", "names a person (ALICE)")]


def test_ids_match_ignoring_case_and_short_ones_or_parts_of_words_never() -> None:
    # "will" is a user id, so the word is flagged: a suggestion the writer may ignore.
    # "vp" is too short to tell from a word; "malice" only contains an id.
    assert _flags("The deploy will retry. A vp of sales asked.") == [
        ("The deploy will retry.", "names a person (will)")]
    assert _flags("Restarted the malice-detector") == []
    assert _flags("Wrote to example.com support") == []


@pytest.mark.parametrize(("text", "said"), [
    ("The engineer forgot to drain the node.", '"forgot" says someone forgot'),
    ("Ops should have checked the graph.", '"should have" judges with hindsight'),
    ("Root cause: human error.", '"human error" stops at a person'),
    ("It was a careless change.", '"careless" judges a person'),
    ("The team failed to roll back.", '"failed to" puts the failure on a person'),
    ("Whose fault was it?", '"fault" assigns fault'),
])
def test_words_of_blame_are_flagged(text: str, said: str) -> None:
    assert _flags(text, "whys[1].because") == [(text, said)]


def test_blameless_sentences_and_empty_steps_pass() -> None:
    texts = blame.sections({"root_cause": "The flag halved the pool; no canary caught it.",
                            "whys": [{"why": "Why no canary?", "because": ""}],
                            "went_well": "Alice Archer rolled back fast.", "summary": "x"})
    assert sorted(texts) == ["root_cause", "whys[0].because", "whys[0].why"]
    assert blame.suggestions(texts, PEOPLE) == []


def test_states_move_through_review_and_back_to_draft() -> None:
    assert rules.move_problem("draft", "in_review") is None
    assert rules.move_problem("in_review", "published") is None
    assert rules.move_problem("published", "draft") is None
    assert rules.move_problem("draft", "draft") is None
    assert rules.move_problem("draft", "published") == (
        "a draft is reviewed before it is published: move it to in_review first")
    assert rules.move_problem("published", "in_review") == (
        "a published post-mortem cannot move to in_review")
    assert rules.move_problem("draft", "done") == (
        "unknown status 'done'; use one of draft, in_review, published")


@dataclass
class _Incident:
    title: str = "Checkout failing"
    severity: str = "SEV2"
    status: str = "resolved"
    commander: str | None = "bob"
    services: list[str] = field(default_factory=lambda: ["payment"])
    impact_start: datetime = T0 - timedelta(minutes=5)
    summary: str | None = None
    users_affected: int | None = None
    root_cause: str | None = None


def _entry(minutes: int, kind: str, text: str, status: str | None = None) -> TimelineEntry:
    at = T0 + timedelta(minutes=minutes)
    return TimelineEntry(id=minutes + 1, kind=kind, text=text, actor="bob", occurred_at=at,
                         recorded_at=at, data={"status": status} if status else {})


ENTRIES = [_entry(0, "declared", "declared SEV2"), _entry(0, "paged", "paged primary"),
           _entry(10, "status", "status identified -> resolved", "resolved"),
           _entry(12, "status", "status resolved -> investigating", "investigating"),
           _entry(30, "status", "status investigating -> resolved", "resolved")]


def test_the_header_runs_from_impact_start_to_the_final_resolve() -> None:
    head = rules.header("INC-7", _Incident(), ENTRIES)
    assert (head.started_at, head.resolved_at, head.duration) == (
        T0 - timedelta(minutes=5), T0 + timedelta(minutes=30), timedelta(minutes=35))
    made = rules.draft(_Incident(), ENTRIES)
    assert [item.text for item in made.timeline] == [
        "declared SEV2 (bob)", "status identified -> resolved (bob)",
        "status resolved -> investigating (bob)", "status investigating -> resolved (bob)"]


def test_the_export_context_has_the_shape_check_renders_templates_against() -> None:
    head = rules.header("INC-7", _Incident(), ENTRIES)
    document = {"title": "t", "status": "draft", "timeline": rules.draft(
        _Incident(), ENTRIES).timeline, "whys": rules.empty_whys(2), "due_at": None}
    made = rules.context(head, document, [dict(SAMPLE_CONTEXT["action_items"][0])], "u")

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items()}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return None

    assert shape(made) == shape(SAMPLE_CONTEXT)


def test_the_shipped_template_shows_every_section() -> None:
    text = rules.render(default_template(), SAMPLE_CONTEXT)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Post-mortem: INC-142 Checkout failing", "## Summary", "## Impact",
        "## Timeline (UTC)", "## Root cause", "### Why-chain", "## Contributing factors",
        "## What went well", "## What went badly", "## Lessons learned", "## Action items"]
    assert "1. Why? Why did checkout fail?\n   Because: The pool ran out." in text
    assert "- [ ] Alert on pool use (P1, owner bob, due 2026-03-20, planned)" in text
