"""`tocsin serve` (web server and engine) and `tocsin worker` (engine only)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, TextIO

import typer
import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from tocsin import logs
from tocsin.cli.common import (
    ConfigOption,
    DbOption,
    config_path,
    db_url,
    engine_for,
    fail,
    unreachable,
)
from tocsin.config.loader import ConfigError, load_config
from tocsin.db import is_sqlite, sqlite_path
from tocsin.engine.runtime import Runtime, build_runtime
from tocsin.logs import event
from tocsin.migrate import upgrade
from tocsin.web import statuspage_host
from tocsin.web.app import create_app

log = logging.getLogger(__name__)


def _single_process_lock(url: str) -> TextIO | None:
    """On SQLite only one process may run the engine; hold a lock file to say so."""
    path = sqlite_path(url)
    if path is None:
        return None
    # The real path, so that a symlink to the same file finds the same lock;
    # "a", so that a refused second start leaves the holder's pid alone.
    path = os.path.realpath(path)
    handle = open(f"{path}.lock", "a")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fail(f"another tocsin process is already serving {path}; SQLite allows one. "
             "Stop it, or use PostgreSQL to run several.")
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _check_config(path: str) -> None:
    try:
        load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(problem.format() + "\n")
        fail(f"{path} is not a valid configuration; fix it and start again")


def _prepare(config: str | None, db: str | None) -> tuple[str, str]:
    logs.configure()
    path, url = config_path(config), db_url(db)
    _check_config(path)
    if sqlite_path(url):
        Path(sqlite_path(url) or ".").parent.mkdir(parents=True, exist_ok=True)
    return path, url


def _upgrade(url: str) -> None:
    """Create or migrate the schema; a database that cannot be reached is said in one
    line, as the other verbs say it (cli.common.open_database), not a traceback."""
    engine = engine_for(url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        unreachable(url, exc)


def _reload_on_hangup(runtime: Runtime) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        # Reload off the signal handler's stack: the loader takes locks.
        def reload() -> None:
            # A refused file is already logged and counted; the old one keeps running.
            with contextlib.suppress(ConfigError):
                runtime.config.reload()

        threading.Thread(target=reload, name="tocsin-reload", daemon=True).start()

    signal.signal(signal.SIGHUP, handler)


def _stop_engine_on_shutdown(app: FastAPI, runtime: Runtime) -> None:
    """Stop the engine in the app's shutdown, while the process still lives.

    After a graceful shutdown uvicorn raises SIGTERM again with the default
    handler, which ends the process before any `finally` after `run` runs;
    the engine must finish the page it is sending before that.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(runtime.engine.stop)

    app.router.lifespan_context = lifespan


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Run the web server and the engine in one process."""
    path, url = _prepare(config, db)
    lock = _single_process_lock(url)
    _upgrade(url)
    runtime = build_runtime(config_path=path, db_url=url)
    _reload_on_hangup(runtime)
    runtime.engine.start()
    app = create_app(runtime)
    _stop_engine_on_shutdown(app, runtime)
    public_port = runtime.config_now().status_page.public_port
    try:
        if public_port is None:
            uvicorn.run(app, host=host, port=port, log_config=None,
                        access_log=True, timeout_graceful_shutdown=10)
        else:
            _serve_two_ports(app, host, port, public_port)
    finally:
        runtime.engine.stop()
        if lock is not None:
            lock.close()


def _serve_two_ports(app: FastAPI, host: str, port: int, public_port: int) -> None:
    """One server, one app, two listeners: `public_port` shows only the status page."""
    if public_port == port:
        fail(f"status_page.public_port {public_port} is also --port; give the status page "
             "a port of its own, or remove public_port")
    public = statuspage_host.PublicPort(app, public_port)
    settings = uvicorn.Config(public, host=host, port=port, log_config=None, access_log=True,
                              timeout_graceful_shutdown=10)
    main = settings.bind_socket()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    status = socket.socket(family, socket.SOCK_STREAM)
    status.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        status.bind((host, public_port))
    except OSError as exc:
        main.close()
        fail(f"cannot listen on status_page.public_port {public_port} ({exc.strerror}); "
             "free the port or choose another")
    status.set_inheritable(True)
    event(log, "serve.status_port", host=host, port=public_port)
    uvicorn.Server(settings).run(sockets=[main, status])


def worker(config: ConfigOption = None, db: DbOption = None) -> None:
    """Run the engine alone, beside `serve` processes on the same PostgreSQL database."""
    path, url = _prepare(config, db)
    if is_sqlite(url):
        fail("tocsin worker needs PostgreSQL; on SQLite, `tocsin serve` runs the engine itself")
    _upgrade(url)
    runtime = build_runtime(config_path=path, db_url=url)
    _reload_on_hangup(runtime)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    runtime.engine.start()
    stopped.wait()
    runtime.engine.stop()
