"""The `flapping:` setting at the top of the file and on routes.

A route without the key takes its parent's setting, and a top-level route
the file's; the file's own default is `Flapping()` (more than 5 changes in
30 minutes). `off` turns detection off for the alerts it covers. A key left
out of the mapping takes its built-in default, not the inherited value, so
`{minutes: 60}` always means 5 changes in 60 minutes.
"""

from __future__ import annotations

from tocsin.config.model import Flapping
from tocsin.config.schema import Fields, Problems

OFF = "off"


def read_flapping(entry: Fields, inherited: Flapping | None, problems: Problems) -> Flapping | None:
    """`entry`'s own flapping setting, or `inherited` when it has none (or a bad one)."""
    value: Fields | str | None = entry.get("flapping")
    if value is None:
        return inherited
    if value == OFF:
        return None
    assert isinstance(value, Fields)
    default = Flapping()
    minutes = float(value.get("minutes", default.minutes))
    if minutes < 1:
        problems.warning(value.at("minutes"), f"{minutes:g} minutes is under one minute",
                         "fine in tests; use whole minutes in production")
    return Flapping(changes=int(value.get("changes", default.changes)), minutes=minutes)
