"""`tocsin status`: is the engine keeping up, and which pages went nowhere."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tocsin.cli.common import ConfigOption, DbOption, JsonOption, db_url, fail, load, open_database
from tocsin.engine.status import Status, gather

AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Report as of this ISO 8601 time (UTC without an offset)"),
]


def _stamp(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        fail(f"--at: '{at}' is not an ISO 8601 time; write it as 2026-03-02T09:00:00Z", code=2)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def as_json(status: Status) -> dict[str, Any]:
    return {
        "at": _stamp(status.now),
        "lagging": status.lagging,
        "engine_lag_seconds": round(status.lag_seconds, 3),
        "max_lag_seconds": status.max_lag_seconds,
        "oldest_due_timer": _stamp(status.oldest_due_timer),
        "oldest_due_delivery": _stamp(status.oldest_due_delivery),
        "queued_deliveries": status.queued_by_channel,
        "failed_deliveries_last_hour": status.failed_by_channel,
        "fallbacks_last_24h": [
            {"alert_id": f.alert_id, "at": _stamp(f.at), "paged_nobody": f.paged_nobody,
             "message": f.message} for f in status.fallbacks],
        "last_heartbeat": _stamp(status.last_heartbeat),
    }


def status(
    as_json_flag: JsonOption = False, at: AtOption = None,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Engine lag, queued and failing deliveries, pages that reached nobody.

    Exits 1 when the engine is further behind than `self_monitoring.max_lag_minutes`.
    """
    settings = load(config).self_monitoring
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        found = gather(session, now=_now(at), max_lag_seconds=settings.max_lag_minutes * 60)
    if as_json_flag:
        sys.stdout.write(json.dumps(as_json(found)) + "\n")
    else:
        _print(found)
    if found.lagging:
        raise typer.Exit(1)


def _counts(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title)
    table.add_column("channel")
    table.add_column("count", justify="right")
    for channel, count in counts.items():
        table.add_row(channel, str(count))
    return table


def _print(found: Status) -> None:
    console = Console()
    verdict = "LAGGING" if found.lagging else "ok"
    console.print(f"engine: {verdict}, {found.lag_seconds:.0f}s behind "
                  f"(limit {found.max_lag_seconds:.0f}s); oldest due timer "
                  f"{_stamp(found.oldest_due_timer) or 'none'}, delivery "
                  f"{_stamp(found.oldest_due_delivery) or 'none'}")
    console.print(_counts("queued deliveries", found.queued_by_channel))
    console.print(_counts("failed deliveries, last hour", found.failed_by_channel))
    table = Table(title="fallback pages, last 24 h")
    for column in ("alert", "at", "what happened"):
        table.add_column(column)
    for fallback in found.fallbacks:
        table.add_row(str(fallback.alert_id), _stamp(fallback.at) or "", fallback.message)
    console.print(table)
    console.print(f"last self-heartbeat: {_stamp(found.last_heartbeat) or 'never'}")
