"""The post-mortem editor, list and printable page in a test client (forms, no JavaScript)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ui.conftest import csrf_of
from tests.ui.incidenting import act, as_user, audit_of, declare, field_error, start
from tests.web.conftest import Web
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.postmortems.store import Postmortem


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    yield from start(tmp_path, db_url, clock)


def _editor(web: Web, key: str) -> str:
    page = web.client.get(f"/ui/incidents/{key}/postmortem")
    assert page.status_code == 200, page.text
    return page.text


def _post(web: Web, key: str, action: str, data: dict[str, object]) -> tuple[int, str]:
    page = _editor(web, key)
    data = {"csrf": csrf_of(page), **data}
    response = web.client.post(f"/ui/incidents/{key}/postmortem/{action}", data=data,
                               follow_redirects=False)
    if response.status_code != 303:
        return response.status_code, response.text
    return 200, web.client.get(response.headers["location"]).text


def _form(page: str) -> dict[str, object]:
    """What the editor would post as it stands: every field's value, the ticked entries."""
    body = page.split('action="/ui/incidents/')[2].split("</form>")[0]
    data: dict[str, object] = {}
    for name, value in re.findall(r'<input [^>]*name="([^"]+)" value="([^"]*)"', body):
        data[name] = html.unescape(value)
    for name, value in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body,
                                  re.S):
        data[name] = html.unescape(value)
    data["entry"] = re.findall(r'name="entry" value="([^"]+)" checked', body)
    data.pop("csrf", None)
    return data


def _hints(page: str) -> list[tuple[str, str]]:
    return [(field, html.unescape(re.sub(r"<[^>]+>", "", text)))
            for field, text in re.findall(r'<li data-field="([^"]+)">(.*?)</li>', page)]


def test_draft_edit_whys_review_publish_and_find(web: Web) -> None:
    key = declare(web, "Checkout failing", severity="SEV3")
    act(web, key, "note", text="Rolled back deploy 4411")
    assert "has no post-mortem yet" in _editor(web, key)
    status, page = _post(web, key, "draft", {})
    assert status == 200 and "Post-mortem drafted from the incident" in page
    assert page.count('class="why-step"') == 5
    ticked = re.findall(r'name="entry" value="[^"]+" checked[^>]*>\s*<span class="zone">'
                        r'[^<]*</span> ([^<]*)', page)
    assert [html.unescape(t).strip() for t in ticked] == [
        "declared SEV3: Checkout failing (alice)", "Commander: alice (alice)",
        "Rolled back deploy 4411 (alice)"]

    data = _form(page) | {"why_0": "Why did checkout fail?",
                          "because_0": "Bob forgot to renew the certificate.",
                          "root_cause": "An expired certificate.", "add_why": "1"}
    data["entry"] = [e for e in data["entry"] if str(e).startswith("e")][1:]  # drop "declared"
    status, page = _post(web, key, "save", data)
    assert status == 200 and page.count('class="why-step"') == 6
    assert _hints(page) == [("whys[0].because", "Bob forgot to renew the certificate. names "
                             "a person (Bob): name the role or the system instead of the "
                             'person, e.g. "the on-call engineer" or "the deploy job"')]
    assert 'value="Why did checkout fail?"' in page
    status, page = _post(web, key, "save", _form(page) | {"remove_why": "5"})
    assert page.count('class="why-step"') == 5

    status, page = _post(web, key, "state", {"status": "in_review"})
    assert "Review requested." in page and ">In review<" in page
    status, page = _post(web, key, "state", {"status": "published"})
    assert "Post-mortem published." in page and "read-only" in page
    listed = web.client.get("/ui/postmortems?q=certificate").text
    assert re.findall(r'<tr data-postmortem="(INC-\d+)"', listed) == [key]
    assert re.findall(r'<tr data-postmortem="(INC-\d+)"',
                      web.client.get("/ui/postmortems?q=nothing-like-it").text) == []
    printed = web.client.get(f"/ui/incidents/{key}/postmortem/print").text
    assert 'aria-label="Main"' not in printed and "/static/postmortems.css" in printed
    assert "Bob forgot to renew the certificate." in printed
    assert "Rolled back deploy 4411 (alice)" in printed and "declared SEV3" not in printed
    assert [a for a, _, s in audit_of(web, key) if a.startswith("postmortem.")] == [
        "postmortem.draft", "postmortem.update", "postmortem.update", "postmortem.state",
        "postmortem.state"]


def test_bad_numbers_are_named_and_an_old_copy_is_refused(web: Web) -> None:
    key = declare(web, "Search slow", severity="SEV3")
    _, page = _post(web, key, "draft", {})
    status, shown = _post(web, key, "save", _form(page) | {"users_affected": "many",
                                                            "summary": "kept words"})
    assert status == 400
    assert field_error(shown, "pm-users_affected") == (
        "give a whole number, 0 or more, or leave it empty")
    assert ">kept words</textarea>" in shown
    stale = _form(page)
    _post(web, key, "save", _form(page) | {"summary": "first save"})
    web.clock.advance(minutes=1)
    _post(web, key, "save", _form(_editor(web, key)) | {"summary": "second save"})
    status, shown = _post(web, key, "save", stale | {"summary": "from the old copy"})
    assert status == 409 and "reload it and make your change again" in shown
    assert ">from the old copy</textarea>" in shown


def test_private_postmortems_are_missing_to_outsiders(web: Web) -> None:
    key = declare(web, "Payroll leak", severity="SEV3", private="yes")
    _post(web, key, "draft", {})
    as_user(web, "carol")
    assert web.client.get(f"/ui/incidents/{key}/postmortem").status_code == 404
    assert web.client.get(f"/ui/incidents/{key}/postmortem/print").status_code == 404
    assert "No post-mortem matches." in web.client.get("/ui/postmortems").text


def test_a_category_the_file_no_longer_lists_is_kept_by_a_save(web: Web) -> None:
    key = declare(web, "Search slow", severity="SEV3")
    _post(web, key, "draft", {})
    with transaction(web.runtime.sessions) as session:
        session.scalars(select(Postmortem)).one().root_cause_category = "retired cause"
    page = _editor(web, key)
    assert '<option value="retired cause" selected>retired cause (not in the config now)' in page
    status, page = _post(web, key, "save", _form(page) | {
        "root_cause_category": "retired cause", "summary": "kept"})
    assert status == 200 and "Post-mortem saved." in page
    status, page = _post(web, key, "save", _form(page) | {"root_cause_category": "Capacity"})
    assert 'value="capacity" selected' in page


def test_a_copy_saved_twice_in_the_same_second_is_refused_the_second_time(web: Web) -> None:
    key = declare(web, "Search slow", severity="SEV3")
    _, page = _post(web, key, "draft", {})
    opened = _form(page)
    assert _post(web, key, "save", opened | {"summary": "alice wrote this"})[0] == 200
    status, shown = _post(web, key, "save", opened | {"summary": "bob wrote this"})
    assert status == 409 and "reload it and make your change again" in shown
    assert ">alice wrote this</textarea>" in _editor(web, key)


def test_too_many_why_steps_are_named_not_dropped(web: Web) -> None:
    key = declare(web, "Search slow", severity="SEV3")
    _, page = _post(web, key, "draft", {})
    steps = {f"why_{n}": f"step {n}" for n in range(51)}
    status, shown = _post(web, key, "save", _form(page) | steps | {"whys_count": "51"})
    assert status == 400
    assert field_error(shown, "pm-whys").startswith("the form holds 51 steps; a why-chain "
                                                    "holds at most 50")
    assert "step 49" in shown  # what was typed is shown again

    status, shown = _post(web, key, "save", _form(page) | {"whys_count": "100000000"})
    assert status == 400
    assert "the form holds 100,000,000 steps" in field_error(shown, "pm-whys")
    assert shown.count('name="why_') == 5  # the boxes the form had, not fifty empty ones

    full = {f"why_{n}": "x" for n in range(50)}
    status, shown = _post(web, key, "save", _form(page) | full | {"whys_count": "50",
                                                                  "add_why": "1"})
    assert status == 400
    assert "already has 50 steps" in field_error(shown, "pm-whys")
    with transaction(web.runtime.sessions) as session:
        saved = session.scalars(select(Postmortem)).one()
        assert [step["why"] for step in saved.whys] == [""] * 5  # nothing was saved
