"""Post-mortem fixes from a new-user trial: exact versions, search of any letters, exports
of full post-mortems, the publisher in the export, and unknown filters named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from tests.support.harness import Harness
from tests.support.incident_setup import runner, start
from tests.support.migrations import downgraded, schema_differences, upgrade_to_head
from tocsin.clock import FakeClock
from tocsin.errors import Conflict, InvalidInput
from tocsin.incidents import service as incidents
from tocsin.postmortems import rules, service


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _do(harness: Harness, action: Any, actor: str = "bob", **fields: Any) -> Any:
    return runner(harness)(lambda session: action(
        session, actor=actor, surface="api", now=harness.clock.now(), **fields))


def _incident(harness: Harness, title: str = "Checkout failing") -> str:
    key = str(_do(harness, incidents.declare, config=harness.config, title=title,
                  severity="SEV3", services=("payment",)).key)
    _do(harness, service.draft, config=harness.config, key=key)
    return key


def _edit(harness: Harness, key: str, actor: str = "bob", expected: int | None = None,
          **fields: Any) -> Any:
    return _do(harness, service.update, config=harness.config, key=key, fields=fields,
               actor=actor, expected_version=expected)


def _export(harness: Harness, key: str) -> str:
    with harness.runtime.sessions() as session:
        incident, found = service.get(session, key, viewer=None, admin=True)
        return service.export(session, config=harness.config, incident=incident,
                              postmortem=found)


def test_two_saves_of_one_version_in_the_same_instant_the_second_is_refused(
        harness: Harness) -> None:
    key = _incident(harness)
    opened = _edit(harness, key, summary="first").version
    _edit(harness, key, actor="alice", expected=opened, summary="alice's words")
    # The clock has not moved: the same second, the same microsecond.
    with pytest.raises(Conflict, match=f"version {opened}, now {opened + 1}"):
        _edit(harness, key, expected=opened, summary="bob's words")
    assert _edit(harness, key, lessons="kept").summary == "alice's words"


def test_a_move_of_state_is_a_new_version_too(harness: Harness) -> None:
    key = _incident(harness)
    opened = _edit(harness, key, summary="first").version
    _do(harness, service.set_state, key=key, status="in_review", actor="alice")
    with pytest.raises(Conflict):
        _edit(harness, key, expected=opened, summary="made on the draft")


def test_words_other_than_ascii_in_the_why_chain_are_found_as_typed(harness: Harness) -> None:
    key = _incident(harness)
    _edit(harness, key, whys=[{"why": "Warum gab es Ärger?", "because": "Die Größe"}],
          title="Kasse")
    _do(harness, service.set_state, key=key, status="in_review")
    _do(harness, service.set_state, key=key, status="published")

    def found(q: str) -> list[str]:
        with harness.runtime.sessions() as session:
            return [i.key for _p, i in service.listing(session, now=harness.clock.now(), q=q,
                                                       admin=True)]

    assert found("Ärger") == [key]
    assert found("Größe") == [key]
    assert found("GRÖSSE") == []  # not a word the post-mortem holds
    assert _do(harness, service.set_state, key=key, status="draft").status == "draft"
    _edit(harness, key, whys=[{"why": "Warum?", "because": "Zeit"}])
    assert found("Ärger") == []  # the searched text follows the why-chain's edits


def test_a_postmortem_full_to_every_limit_exports_with_the_built_in_template(
        harness: Harness) -> None:
    key = _incident(harness)
    full = "x" * rules.MAX_TEXT
    _edit(harness, key, whys=[{"why": full, "because": full}] * rules.MAX_WHYS,
          summary=full, root_cause=full, contributing_factors=full, went_well=full,
          went_badly=full, lessons=full)
    text = _export(harness, key)
    assert len(text) > 1_000_000
    assert f"{rules.MAX_WHYS}. Why? {full}\n   Because: {full}\n" in text


def test_a_custom_template_printing_far_more_than_its_data_is_still_stopped() -> None:
    context = {"whys": [{"why": "a"}]}
    with pytest.raises(rules.TemplateFailed, match="prints more than"):
        rules.render("{% for n in range(9000) %}{{ 'y' * 9000 }}{% endfor %}", context)


def test_the_export_says_who_published_it(harness: Harness) -> None:
    key = _incident(harness)
    _do(harness, service.set_state, key=key, status="in_review")
    _do(harness, service.set_state, key=key, status="published", actor="carol")
    assert ", published 2026-03-02 03:00 UTC by carol |" in _export(harness, key)


def test_an_unknown_severity_or_service_is_named(harness: Harness) -> None:
    with harness.runtime.sessions() as session, pytest.raises(InvalidInput) as raised:
        service.listing(session, now=harness.clock.now(), severity="SEV9", service="paymnet",
                        admin=True, config=harness.config)
    assert [(p.path, p.message.split(";")[0]) for p in raised.value.fields] == [
        ("severity", "unknown severity 'SEV9'"), ("service", "unknown service 'paymnet'")]
    with harness.runtime.sessions() as session:
        assert service.listing(session, now=harness.clock.now(), severity="sev3",
                               service="payment", admin=True, config=harness.config) == []


def test_migration_0025_fills_the_search_text_and_goes_down_and_up(harness: Harness,
                                                                   db_url: str) -> None:
    key = _incident(harness)
    _edit(harness, key, whys=[{"why": "Warum Ärger?", "because": "Größe"}])
    with downgraded(db_url, "0024") as connection:
        down = {c["name"] for c in inspect(connection).get_columns("postmortems")}
        upgrade_to_head(connection)
        filled = connection.execute(text("SELECT version, whys_text FROM postmortems")).all()
    assert {"version", "whys_text"} & down == set()
    assert [tuple(row) for row in filled] == [(1, "Warum Ärger?\nGröße")]
    assert schema_differences(db_url) == []
