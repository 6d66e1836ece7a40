"""`self_monitoring` in the config: defaults, the heartbeat URL and bad values."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, load, only_error
from tocsin.config.model import SelfMonitoring


def test_defaults_when_the_section_is_absent(tmp_path: Path) -> None:
    config, _warnings = load(tmp_path, BASE)

    assert config.self_monitoring == SelfMonitoring()
    assert config.self_monitoring.max_lag_minutes == 1
    assert config.self_monitoring.heartbeat_url is None


def test_a_heartbeat_url_from_the_environment_loads(tmp_path: Path) -> None:
    text = BASE + """\
self_monitoring:
  heartbeat_url: "${HC_URL}"
  heartbeat_every_minutes: 0.5
  heartbeat_method: post
  max_lag_minutes: 3
"""
    config, _warnings = load(tmp_path, text, env={"HC_URL": "https://hc.example/ping/abc"})

    assert config.self_monitoring == SelfMonitoring(
        heartbeat_url="https://hc.example/ping/abc", heartbeat_every_minutes=0.5,
        heartbeat_method="post", max_lag_minutes=3)


def test_a_zero_lag_limit_is_refused_naming_the_field(tmp_path: Path) -> None:
    problem = only_error(tmp_path, BASE + "self_monitoring: {max_lag_minutes: 0}\n")

    assert problem.path == "self_monitoring.max_lag_minutes"
    assert "more than 0" in problem.format()


def test_a_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    problem = only_error(tmp_path, BASE + "self_monitoring: {heartbeat_url: hc.example/ping}\n")

    assert problem.path == "self_monitoring.heartbeat_url"
    assert "fix:" in problem.format()
