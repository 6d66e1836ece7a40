"""A config with status components, sessions on each backend, and the live harness.

The live tests (a real SMTP server, Tocsin's own e-mail sender) share `smtp` and
`tocsin`; the latter reads the test module's own `CONFIG`, whose `PORT` becomes the
SMTP server's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.support.live_channels import LiveHarness
from tests.support.smtp_server import SmtpServer
from tocsin.clock import FakeClock
from tocsin.config.model import (
    Component,
    Config,
    MaintenanceWindow,
    Service,
    StatusPageSettings,
)
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.statuspage import service

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)

COMPONENTS = (
    Component(name="API", description="Public REST API", group="Core", service="payment"),
    Component(name="Web", group="Core"),
    Component(name="Checkout", service="checkout"),
    Component(name="Billing worker", public=False, service="billing"),
)
CONFIG = Config(
    path="test.yaml",
    services={name: Service(name=name, escalation_policy="critical")
              for name in ("payment", "checkout", "billing")},
    components=COMPONENTS,
    status_page=StatusPageSettings(title="Example Status", time_zone="Europe/Berlin"),
)


def with_windows(*windows: MaintenanceWindow) -> Config:
    return Config(path=CONFIG.path, services=CONFIG.services, components=CONFIG.components,
                  status_page=CONFIG.status_page, maintenance=windows)


def window(name: str, services: tuple[str, ...], start: timedelta, end: timedelta,
           reason: str = "") -> MaintenanceWindow:
    return MaintenanceWindow(name=name, start=NOW + start, end=NOW + end, services=services,
                             reason=reason)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def declare(sessions: sessionmaker[Session], *, at: datetime = NOW, config: Config = CONFIG,
            **fields: Any) -> int:
    values: dict[str, Any] = {"name": "Checkout errors", "impact": "major",
                              "status": "investigating", "body": "We are looking into it.",
                              **fields}
    with transaction(sessions) as session:
        row = service.create_incident(session, config=config, actor="ann", surface="api",
                                      now=at, **values)
        return row.id


def update(sessions: sessionmaker[Session], incident: int, *, at: datetime,
           config: Config = CONFIG, **fields: Any) -> int:
    values: dict[str, Any] = {"body": "More news.", **fields}
    with transaction(sessions) as session:
        row = service.post_update(session, config=config, incident=incident, actor="ben",
                                  surface="api", now=at, **values)
        return row.id


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def tocsin(request: pytest.FixtureRequest, smtp: SmtpServer, tmp_path: Path, db_url: str,
           clock: FakeClock) -> Iterator[LiveHarness]:
    config = request.module.CONFIG.replace("PORT", str(smtp.port))
    harness = LiveHarness(tmp_path, db_url, clock, config)
    yield harness
    harness.close()
