"""The file's `metrics:` section: what the report counts as an outage.

    metrics:
      outage_severities: {SEV1: major_outage, SEV2: partial_outage}   # the default

A service with no status page component is down during its incidents of
these severities (docs/metrics.md, "Uptime"). Each key names a severity of
the file; each value is `partial_outage` or `major_outage`. An empty
mapping counts no incident as an outage.
"""

from __future__ import annotations

from tocsin.config.convert import choice, text_map
from tocsin.config.model import MetricsSettings, Severity
from tocsin.config.schema import Fields, Key, Problems, Shape

OUTAGES = ("partial_outage", "major_outage")

METRICS: Shape = {
    "outage_severities": Key(text_map(choice(*OUTAGES))),
}


def build_metrics(top: Fields, problems: Problems, severities: tuple[Severity, ...],
                  ) -> MetricsSettings:
    section: Fields | None = top.get("metrics")
    if section is None or section.get("outage_severities") is None:
        return MetricsSettings()
    written: dict[str, str] = section.get("outage_severities")
    names = {severity.name.casefold(): severity.name for severity in severities}
    found: list[tuple[str, str]] = []
    for name, outage in written.items():
        known = names.get(name.casefold())
        if known is None:
            problems.error(section.at("outage_severities"),
                           f"outage_severities names {name!r}, which is not a severity",
                           f"use one of {', '.join(names.values())}")
            continue
        found.append((known, outage))
    return MetricsSettings(outage_severities=tuple(found))
