"""The file's `metrics:` section: which severities put a service in outage."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.config.loader import ConfigError, load_config
from tocsin.metrics.service import settings_from

BASE = """timezone: UTC
severities:
  - {name: SEV1, target_mttr_minutes: 30}
  - {name: SEV2, target_mttr_minutes: 60}
  - {name: Outage, target_mttr_minutes: 15}
"""


def _load(tmp_path: Path, extra: str = ""):
    path = tmp_path / "tocsin.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    config, _warnings = load_config(str(path))
    return config


def test_by_default_sev1_is_a_major_outage_and_sev2_a_partial_one(tmp_path: Path):
    settings = settings_from(_load(tmp_path))

    assert dict(settings.outage_severities) == {"SEV1": "major_outage",
                                                "SEV2": "partial_outage"}
    # Recurring incidents use the post-mortem categories, less "unknown".
    assert settings.recurring_categories is not None
    assert "unknown" not in settings.recurring_categories
    assert "deployment" in settings.recurring_categories


def test_the_file_names_its_own_outage_severities(tmp_path: Path):
    config = _load(tmp_path, "metrics:\n  outage_severities: {outage: major_outage}\n")

    assert dict(settings_from(config).outage_severities) == {"Outage": "major_outage"}


@pytest.mark.parametrize(("section", "says"), [
    ("{SEV9: major_outage}", "'SEV9', which is not a severity"),
    ("{SEV1: down}", "down"),
])  # fmt: skip
def test_a_wrong_outage_severity_is_an_error_with_its_line(tmp_path: Path, section: str,
                                                           says: str):
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, f"metrics:\n  outage_severities: {section}\n")

    found = [problem.format() for problem in raised.value.problems]
    assert len(found) == 1
    assert ":7: metrics.outage_severities" in found[0] and says in found[0]


def test_the_report_gauges_are_off_unless_the_file_says_true(tmp_path: Path):
    assert _load(tmp_path).metrics.report_gauges is False
    assert _load(tmp_path, "metrics:\n  report_gauges: true\n").metrics.report_gauges is True
    both = _load(tmp_path, "metrics:\n  report_gauges: true\n"
                 "  outage_severities: {outage: major_outage}\n").metrics
    assert both.report_gauges is True
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, "metrics:\n  report_gauges: sometimes\n")
    [problem] = [problem.format() for problem in raised.value.problems]
    assert "metrics.report_gauges" in problem
