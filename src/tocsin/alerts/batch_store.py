"""Queries for ingesting a batch: the latest alert of many keys, ids for new ones.

A webhook may name thousands of keys. They are looked up in a few queries
rather than one each, and on PostgreSQL the rows are locked (`FOR UPDATE`)
in dedup-key order, byte by byte, so two requests naming the same alerts
in different orders queue behind each other instead of deadlocking. SQLite
needs no row locks: its writers run one at a time (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from tocsin.alerts.store import Alert

# Keys per query: far below the bind-parameter limits of SQLite (32,766)
# and PostgreSQL (65,535), and small enough to keep each query quick.
CHUNK = 1000


def latest_alerts(session: Session, integration: str, keys: Sequence[str]) -> dict[str, Alert]:
    """The newest alert of each key of `integration` that has one, locked.

    `keys` must be sorted (Python's order is code-point order, the same as
    byte order in UTF-8 and the order the rows are locked in).
    """
    found: dict[str, Alert] = {}
    lock_keys(session, integration, keys)
    order = _byte_order(session)
    for chunk in _chunks(keys):
        newest = (
            select(func.max(Alert.id))
            .where(Alert.integration == integration, Alert.dedup_key.in_(chunk))
            .group_by(Alert.dedup_key)
        )
        query = select(Alert).where(Alert.id.in_(newest)).order_by(order).with_for_update()
        for alert in session.scalars(query):
            found[alert.dedup_key] = alert
    return found


# Keys are locked by bucket: each lock is an entry in PostgreSQL's shared lock
# table (64 per connection by default), so a storm of thousands of keys must
# not take one each. Two batches sharing a bucket simply queue.
KEY_LOCK_BUCKETS = 256


def lock_keys(session: Session, integration: str, keys: Sequence[str]) -> None:
    """On PostgreSQL, hold a transaction lock for each key's bucket, in bucket order.

    Row locks cannot guard a key that has no row yet: two requests opening
    the same new key would both insert and one would fail on the unique open
    key. With these locks the second waits for the first to commit and then
    sees its alert. Buckets are taken in ascending order, so two batches
    never wait on each other in a circle.
    """
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    buckets = sorted({zlib.crc32(f"{integration}\0{key}".encode()) % KEY_LOCK_BUCKETS
                      for key in keys})
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, bucket) FROM unnest(CAST(:buckets AS int[]))"
             " WITH ORDINALITY AS locks(bucket, n) ORDER BY n"),
        {"space": _LOCK_SPACE, "buckets": buckets},
    )


# The first key of PostgreSQL's two-key advisory locks: Tocsin's own space.
_LOCK_SPACE = 0x7473


def reserve_alert_ids(session: Session, count: int) -> list[int]:
    """`count` unused alert ids, ascending, for alerts this transaction inserts.

    Alerts that come with their ids need no RETURNING, so they go in one
    executemany: pipelined by psycopg, where RETURNING would mean a statement
    with a parameter per column per row to parse, and one statement on
    SQLite instead of one per row for `lastrowid`. PostgreSQL's sequence
    hands out ids to every transaction at once; SQLite's writer holds the
    write lock from BEGIN IMMEDIATE to commit, so the ids past the largest
    are this transaction's.
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence('alerts', 'id')) "
                     "FROM generate_series(1, :count)")
        return sorted(int(value) for value in session.scalars(query, {"count": count}))
    largest = session.scalar(select(func.coalesce(func.max(Alert.id), 0))) or 0
    return list(range(largest + 1, largest + 1 + count))


def _byte_order(session: Session) -> ColumnElement[str]:
    # PostgreSQL sorts text by the database's collation unless told otherwise;
    # "C" compares bytes. SQLite's default collation already does.
    if session.get_bind().dialect.name == "postgresql":
        return Alert.dedup_key.collate("C")
    return Alert.dedup_key.expression


def _chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start:start + CHUNK]
