"""A reload that drops a severity while incidents of it are open: warned, never silent."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.harness import Harness
from tests.support.incident_setup import INCIDENT_CONFIG, runner, start
from tocsin.clock import FakeClock
from tocsin.incidents import service

WITH_P1 = INCIDENT_CONFIG.replace(
    "  - {name: SEV1, target_mttr_minutes: 30, notify: [leadership]}\n",
    "  - {name: SEV1, target_mttr_minutes: 30, notify: [leadership]}\n"
    "  - {name: P1, target_mttr_minutes: 15, update_every_minutes: 20}\n")
# P1 and SEV2 removed; SEV2 is one of the built-in severities, P1 is not.
WITHOUT = WITH_P1.replace("  - {name: P1, target_mttr_minutes: 15, update_every_minutes: 20}\n",
                          "").replace("  - {name: SEV2, target_mttr_minutes: 60}\n", "")


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock, WITH_P1) as made:
        yield made


def _do(harness: Harness, action: Any, **fields: Any) -> Any:
    return runner(harness)(lambda session: action(
        session, config=harness.config, actor="bob", surface="cli", now=harness.clock.now(),
        **fields))


def _warned(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [getattr(r, "tocsin_fields", {}) for r in caplog.records
            if r.getMessage() == "incident.severity_unconfigured"
            and r.levelno == logging.WARNING]


def _reminders(harness: Harness) -> list[tuple[int, object]]:
    with harness.runtime.sessions() as session:
        return [(row[0], row[1]) for row in session.execute(text(
            "SELECT incident_id, due_at FROM incident_slack_tasks "
            "WHERE kind = 'remind_update' AND status = 'pending' ORDER BY incident_id"))]


def test_open_incidents_of_a_removed_severity_are_warned_and_fall_back(
    harness: Harness, caplog: pytest.LogCaptureFixture,
) -> None:
    for severity in ("P1", "SEV2", "SEV3"):
        _do(harness, service.declare, title=f"{severity} trouble", severity=severity,
            services=("payment",))
    _do(harness, service.set_status, key="INC-3", status="resolved")
    harness.config_path.write_text(WITHOUT, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="tocsin.incidents.severities"):
        harness.runtime.config.reload()
    assert [(w["incident"], w["severity"], w["using"]) for w in _warned(caplog)] == [
        ("INC-1", "P1", "nothing: no update reminders"), ("INC-2", "SEV2", "built-in SEV2")]

    caplog.clear()
    harness.advance(5)
    with caplog.at_level(logging.WARNING, logger="tocsin.incidents.severities"):
        _do(harness, service.post_update, key="INC-1", text="Still on it")
        _do(harness, service.post_update, key="INC-2", text="Rolling back")
    assert [w["incident"] for w in _warned(caplog)] == ["INC-1", "INC-2"]
    due = dict(_reminders(harness))
    assert 1 not in due  # P1's reminder was replaced by none: nothing to go by
    assert due[2] is not None  # SEV2's built-in hourly reminder


def test_target_mttr_keeps_one_type_across_a_reload(harness: Harness) -> None:
    assert {type(s.target_mttr_minutes) for s in harness.config.severities} == {float}
    harness.config_path.write_text(WITHOUT.replace("target_mttr_minutes: 30,",
                                                   "target_mttr_minutes: 30.5,"))
    harness.runtime.config.reload()
    assert {type(s.target_mttr_minutes) for s in harness.config.severities} == {float}
