"""The file's `metrics:` section: what the report counts as an outage.

    metrics:
      outage_severities: {SEV1: major_outage, SEV2: partial_outage}   # the default
      report_gauges: false   # true: the report's figures as tocsin_report_* on /metrics

A service with no status page component is down during its incidents of
these severities (docs/metrics.md, "Uptime"). Each key names a severity of
the file; each value is `partial_outage` or `major_outage`. An empty
mapping counts no incident as an outage. /metrics needs no token, so the
report's business figures appear there only with `report_gauges: true`.
"""

from __future__ import annotations

from tocsin.config.convert import boolean, choice, text_map
from tocsin.config.model import MetricsSettings, Severity
from tocsin.config.schema import Fields, Key, Problems, Shape

OUTAGES = ("partial_outage", "major_outage")

METRICS: Shape = {
    "outage_severities": Key(text_map(choice(*OUTAGES))),
    "report_gauges": Key(boolean),
}


def build_metrics(top: Fields, problems: Problems, severities: tuple[Severity, ...],
                  ) -> MetricsSettings:
    section: Fields | None = top.get("metrics")
    if section is None:
        return MetricsSettings()
    gauges = bool(section.get("report_gauges"))
    if section.get("outage_severities") is None:
        return MetricsSettings(report_gauges=gauges)
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
    return MetricsSettings(outage_severities=tuple(found), report_gauges=gauges)
