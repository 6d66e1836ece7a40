"""The status page's answer cache: one maker per answer, forgotten on a write or a new second."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.web.statuspage_cache import PageCache

NOW = datetime(2026, 3, 2, 3, 0, 0, 250_000, tzinfo=UTC)


def test_readers_arriving_while_an_answer_is_made_wait_for_it():
    cache = PageCache()
    started, release = threading.Event(), threading.Event()
    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        started.set()
        assert release.wait(5)
        return b"page"

    answers: list[bytes] = []
    first = threading.Thread(target=lambda: answers.append(cache.get("/s", NOW, make)))
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=lambda: answers.append(cache.get("/s", NOW, make)))
              for _ in range(3)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(5)

    assert (answers, len(made)) == ([b"page"] * 4, 1)


def test_an_answer_lasts_until_the_second_turns_or_a_write():
    cache = PageCache()
    bodies = iter([b"one", b"two", b"three", b"four"])

    def make() -> bytes:
        return next(bodies)

    first = cache.get("/s", NOW, make)
    same = cache.get("/s", NOW + timedelta(milliseconds=700), make)
    turned = cache.get("/s", NOW + timedelta(seconds=1), make)
    cache.changed()
    written = cache.get("/s", NOW + timedelta(seconds=1), make)
    other_path = cache.get("/t", NOW + timedelta(seconds=1), make)

    assert (first, same, turned, written, other_path) == (b"one", b"one", b"two", b"three",
                                                          b"four")


def test_a_failed_make_leaves_nothing_behind():
    cache = PageCache()

    def fail() -> bytes:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        cache.get("/s", NOW, fail)

    assert cache.get("/s", NOW, lambda: b"fresh") == b"fresh"
