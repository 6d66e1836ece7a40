"""Label patterns: Python's backtracking `re` against RE2, on a hostile label.

`(a+)+$` against N letters `a` followed by `!` makes `re` try every way to
split the run (time doubling with each letter); RE2 reads the label once.
Prints, per N, the time of one full match with each engine (`re` stops being
measured once one match takes over `--limit` seconds), then the price paid on
ordinary labels: a route with three `match_re` patterns against 10,000
alerts with each engine (RE2's Python wrapper costs more per call than `re`).

Run from the repository root: `.venv/bin/python bench/label_patterns.py`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tocsin.config.model import Route, Target
from tocsin.config.patterns import full_match
from tocsin.routing.rules import route_matches

NESTED = "(a+)+$"


def _seconds(run: object) -> float:
    assert callable(run)
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def hostile(limit: float) -> None:
    print(f"one full match of /{NESTED}/ against 'a' * N + '!'")
    print(f"{'N':>9} {'re (s)':>12} {'RE2 (s)':>12}")
    python_done = False
    for size in (16, 18, 20, 22, 24, 26, 1_000, 100_000, 1_000_000):
        label = "a" * size + "!"
        shown = "skipped"
        if not python_done:
            took = _seconds(lambda label=label: re.fullmatch(NESTED, label))
            shown = f"{took:.6f}"
            python_done = took > limit
        took_re2 = _seconds(lambda label=label: full_match(NESTED, label))
        print(f"{size:>9} {shown:>12} {took_re2:>12.6f}")


def realistic(count: int) -> None:
    patterns = {"env": "prod|production", "host": "db-[0-9]+(\\.eu)?",
                "alertname": ".*Disk.*"}
    route = Route(notify=Target("escalation_policy", "critical"), match_re=patterns)
    labels = [{"env": "prod", "host": f"db-{i}.eu", "alertname": "HostDiskFull"}
              for i in range(count)]
    on_re2 = _seconds(lambda: [route_matches(route, found) for found in labels])
    on_re = _seconds(lambda: [all(re.fullmatch(p, found[name]) for name, p in patterns.items())
                              for found in labels])
    print(f"\na route with 3 match_re patterns against {count:,} ordinary alerts:")
    print(f"  re  {on_re * 1000:8.1f} ms ({on_re / count * 1e6:6.2f} µs an alert)")
    print(f"  RE2 {on_re2 * 1000:8.1f} ms ({on_re2 / count * 1e6:6.2f} µs an alert)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=1.0,
                        help="stop timing re once one match takes this many seconds")
    parser.add_argument("--alerts", type=int, default=10_000)
    args = parser.parse_args()
    hostile(args.limit)
    realistic(args.alerts)


if __name__ == "__main__":
    main()
