"""POST /api/v1/config/reload: admins only; a bad file is refused and paging carries on."""

from __future__ import annotations

import pytest

from tests.web.conftest import ADMIN_TOKEN, READ_TOKEN, USERS, WRITE_TOKEN, Web, link_path

# The same file with carol as the only one on call.
CAROL_ON_CALL = USERS.replace("http://tocsin.test", "https://oncall.example.test") + """
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [carol]
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
routes:
  - {notify: critical}
"""

# Valid YAML, invalid config: a route naming a policy that does not exist, and an
# escalation step naming nobody known.
BROKEN = USERS + """
escalation_policies:
  - name: critical
    steps:
      - {targets: [nobody-here], timeout_minutes: 5}
routes:
  - {notify: no-such-policy}
"""


def _reload(web: Web, token: str | None = ADMIN_TOKEN):
    return web.call("POST", "/api/v1/config/reload", token)


@pytest.mark.parametrize(("token", "status"), [
    (None, 401), (READ_TOKEN, 403), (WRITE_TOKEN, 403), (ADMIN_TOKEN, 200),
])
def test_only_an_admin_token_may_reload(web: Web, token, status):
    response = _reload(web, token)

    assert response.status_code == status
    if status == 200:
        assert response.json()["status"] == "reloaded"
    else:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_a_broken_file_is_refused_with_every_problem_listed(web: Web):
    web.rewrite_config(BROKEN)

    response = _reload(web)

    assert response.status_code == 400
    error = response.json()["error"]
    assert "old one keeps running" in error["message"]
    lines = BROKEN.splitlines()
    where = {problem["path"].split(":")[1] for problem in error["fields"]}
    assert str(next(i for i, t in enumerate(lines, 1) if "nobody-here" in t)) in where
    assert str(next(i for i, t in enumerate(lines, 1) if "no-such-policy" in t)) in where
    assert all(problem["path"].startswith(str(web.config_path) + ":")
               for problem in error["fields"])


def test_after_a_refused_reload_the_old_config_still_routes_and_pages(web: Web):
    web.rewrite_config(BROKEN)
    assert _reload(web).status_code == 400

    alert_id = web.fire()
    web.clock.advance(minutes=5)
    web.runtime.engine.run_due()

    assert web.alert(alert_id)["policy"] == "critical"
    assert [page.user_id for page in web.pages()] == ["alice", "bob"]
    assert web.call("GET", "/api/v1/alerts", READ_TOKEN).status_code == 200


def test_a_file_that_is_not_yaml_is_refused_too(web: Web):
    web.rewrite_config("routes: [\n  - {notify: critical\n")

    response = _reload(web)

    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    web.fire()
    assert [page.user_id for page in web.pages()] == ["alice"]


def test_refused_and_applied_reloads_are_counted(web: Web):
    name = "tocsin_config_reloads_total"
    refused, applied = web.metric(name, outcome="refused"), web.metric(name, outcome="applied")
    web.rewrite_config(BROKEN)
    _reload(web)
    web.rewrite_config(CAROL_ON_CALL)
    _reload(web)

    assert web.metric(name, outcome="refused") == refused + 1
    assert web.metric(name, outcome="applied") == applied + 1


def test_a_valid_change_takes_effect_for_the_next_alert(web: Web):
    web.fire("fp-before")
    web.rewrite_config(CAROL_ON_CALL)

    response = _reload(web)
    web.fire("fp-after")

    assert response.status_code == 200
    assert [page.user_id for page in web.pages()] == ["alice", "carol"]
    assert web.pages()[-1].ack_url.startswith("https://oncall.example.test/a/")


def test_a_reload_reports_the_new_files_warnings(web: Web):
    web.rewrite_config(CAROL_ON_CALL.replace("{notify: critical}", "{notify: primary}"))

    response = _reload(web)

    assert response.status_code == 200
    [warning] = response.json()["warnings"]
    assert warning.startswith(f"{web.config_path}:")
    assert "no escalation" in warning


def test_links_sent_before_a_reload_keep_working(web: Web):
    alert_id = web.fire()
    link = link_path(web.pages()[0])
    web.rewrite_config(CAROL_ON_CALL)
    _reload(web)

    response = web.client.post(link, data={"action": "acknowledge"})

    assert response.status_code == 200
    assert web.alert(alert_id)["acknowledged_by"] == "alice"


def test_a_token_removed_from_the_file_stops_working_after_reload(web: Web):
    web.rewrite_config(web.config_path.read_text(encoding="utf-8").replace(
        "  - {name: reader, token: read-token-1a2b3c4d, user: carol, scope: read}\n", ""))

    assert _reload(web).status_code == 200

    assert web.call("GET", "/api/v1/alerts", READ_TOKEN).status_code == 401
    assert web.call("GET", "/api/v1/alerts", WRITE_TOKEN).status_code == 200


def test_warnings_beside_a_refusing_error_are_marked_as_warnings(web: Web):
    web.rewrite_config(BROKEN.replace("timeout_minutes: 5", "timeout_minutes: 0.05"))

    fields = _reload(web).json()["error"]["fields"]

    warnings = [f for f in fields if f["message"].startswith("warning: ")]
    assert len(warnings) == 1
    assert "timeout_minutes" in warnings[0]["path"]
    assert not fields[0]["message"].startswith("warning: ")
