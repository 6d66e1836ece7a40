"""What a refused reload logs: errors at ERROR, the file's warnings at WARNING."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.config.helpers import BASE
from tocsin.config.loader import ConfigError, Problem, load_config
from tocsin.config.model import Config
from tocsin.engine.runtime import ConfigHolder


def test_a_refused_reload_logs_warnings_at_warning_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(BASE, encoding="utf-8")
    refuse = False

    def loader(file: str) -> tuple[Config, list[Problem]]:
        if refuse:
            raise ConfigError([
                Problem(file, 3, "routes[0]", "unknown policy 'x'", "name a policy"),
                Problem(file, 9, "users[1]", "bob has no contact", "add one", "warning")])
        return load_config(file)

    holder = ConfigHolder(path, loader)
    refuse = True
    with caplog.at_level(logging.INFO, logger="tocsin.engine.runtime"), \
            pytest.raises(ConfigError):
        holder.reload()
    said = {(r.levelno, r.getMessage().split(" ")[0]) for r in caplog.records
            if "tocsin.yaml:" in r.getMessage()}
    assert said == {(logging.ERROR, "config.problem"), (logging.WARNING, "config.warning")}
