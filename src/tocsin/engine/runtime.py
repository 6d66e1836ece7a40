"""What a running Tocsin process holds: the config, the database, the engine.

The config is swapped whole: a reload validates the new file first and
keeps the old one running when the new one is invalid, so a bad file never
stops paging.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine as SQLEngine
from sqlalchemy.orm import Session, sessionmaker

from tocsin import keys
from tocsin.clock import Clock, SystemClock
from tocsin.config.loader import ConfigError, Problem, load_config
from tocsin.config.model import Config
from tocsin.db import make_engine, make_sessionmaker
from tocsin.engine.runner import Engine
from tocsin.incidents import severities
from tocsin.links import LinkSigner
from tocsin.logs import REDACTOR, event
from tocsin.notify.base import Notifier
from tocsin.notify.registry import build_notifiers
from tocsin.notify.slack import target_menus
from tocsin.notify.trackers import tracker_secrets
from tocsin.telemetry import CONFIG_RELOADS

log = logging.getLogger(__name__)


def config_secrets(config: Config) -> list[str]:
    """Every secret a config holds, for the log redactor."""
    found = [i.key for i in config.integrations] + [t.token for t in config.api_tokens]
    found += [h.key for h in config.heartbeats.values() if h.key]
    slack = config.notifications.slack
    if slack is not None:
        found += [slack.token, slack.signing_secret or ""]
    if config.notifications.webhook is not None:
        found.append(config.notifications.webhook.secret)
    if config.notifications.email is not None:
        found.append(config.notifications.email.password or "")
    if config.notifications.twilio is not None:
        found.append(config.notifications.twilio.auth_token)
    found.append(config.self_monitoring.heartbeat_url or "")
    # Each tracker credential in every form a request carries it (basic auth, base64...).
    found += tracker_secrets(config.trackers)
    # A routing key lets anyone open and close alerts on the far side.
    found += [u.contacts["pagerduty"] for u in config.users.values() if "pagerduty" in u.contacts]
    return [s for s in found if s]


class ConfigHolder:
    def __init__(self, path: str | Path, loader: Callable[..., tuple[Config, list[Problem]]]
                 = load_config) -> None:
        self.path = str(path)
        self._loader = loader
        self._lock = threading.Lock()
        config, warnings = loader(self.path)
        self._config = config
        self._listeners: list[Callable[[Config], None]] = []
        self._note_loaded(config, warnings)

    @property
    def current(self) -> Config:
        return self._config

    def on_change(self, listener: Callable[[Config], None]) -> None:
        self._listeners.append(listener)

    def reload(self) -> list[Problem]:
        """Load the file again; on any error keep the running config and raise."""
        with self._lock:
            try:
                config, warnings = self._loader(self.path)
            except ConfigError as exc:
                CONFIG_RELOADS.labels(outcome="refused").inc()
                event(log, "config.reload_refused", level=logging.ERROR, path=self.path,
                      errors=sum(1 for p in exc.problems if p.severity == "error"))
                for problem in exc.problems:
                    if problem.severity == "warning":
                        log.warning("config.warning %s", problem.format())
                    else:
                        log.error("config.problem %s", problem.format())
                raise
            self._config = config
            for listener in self._listeners:
                listener(config)
            CONFIG_RELOADS.labels(outcome="applied").inc()
            self._note_loaded(config, warnings)
            return warnings

    def _note_loaded(self, config: Config, warnings: list[Problem]) -> None:
        REDACTOR.set_secrets(config_secrets(config))
        for problem in warnings:
            log.warning("config.warning %s", problem.format())
        event(log, "config.loaded", path=self.path, schedules=len(config.schedules),
              policies=len(config.escalation_policies), routes=len(config.routes))


@dataclass
class Runtime:
    config: ConfigHolder
    db: SQLEngine
    sessions: sessionmaker[Session]
    clock: Clock
    links: LinkSigner
    engine: Engine
    notifiers: dict[str, Notifier] = field(default_factory=dict)

    def config_now(self) -> Config:
        return self.config.current


def build_runtime(
    *, config_path: str | Path, db_url: str, clock: Clock | None = None,
    notifiers: Callable[[Config], dict[str, Notifier]] | None = None,
    console_stream: TextIO | None = None, max_wait: float = 5.0,
) -> Runtime:
    """Wire a process together. The database must already be migrated."""
    clock = clock or SystemClock()
    holder = ConfigHolder(config_path)
    db = make_engine(db_url)
    sessions = make_sessionmaker(db)
    secret = keys.get_or_create(sessions, keys.LINK_SIGNING)
    links = LinkSigner(secret, holder.current.public_url, clock)

    def make_notifiers(config: Config) -> dict[str, Notifier]:
        if notifiers is not None:
            return notifiers(config)
        return build_notifiers(config.notifications, clock, console_stream=console_stream,
                               public_url=config.public_url, menus=target_menus(config))

    box: dict[str, dict[str, Notifier]] = {"current": make_notifiers(holder.current)}

    def on_change(config: Config) -> None:
        box["current"] = make_notifiers(config)
        links.public_url = config.public_url

    def check_open_incidents(config: Config) -> None:
        with sessions() as session:
            severities.warn_unconfigured(session, config)

    holder.on_change(on_change)
    holder.on_change(check_open_incidents)
    check_open_incidents(holder.current)
    engine = Engine(sessions=sessions, config=lambda: holder.current, clock=clock,
                    notifiers=lambda: box["current"], links=links, max_wait=max_wait)
    return Runtime(config=holder, db=db, sessions=sessions, clock=clock, links=links,
                   engine=engine, notifiers=box["current"])
