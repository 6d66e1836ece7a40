"""Prometheus metrics about Tocsin itself, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)

ALERTS_RECEIVED = Counter(
    "tocsin_alerts_received", "Alert events accepted, by integration and outcome.",
    ["integration", "outcome"], registry=REGISTRY,
)
EVENTS_REJECTED = Counter(
    "tocsin_events_rejected", "Inbound events refused as invalid, by endpoint.",
    ["endpoint"], registry=REGISTRY,
)
PAGES = Counter(
    "tocsin_pages", "Delivery attempts, by channel and outcome.",
    ["channel", "outcome"], registry=REGISTRY,
)
UNROUTED = Counter(
    "tocsin_alerts_unrouted", "Alerts that matched no route.", registry=REGISTRY,
)
ENGINE_LAG = Gauge(
    "tocsin_engine_lag_seconds", "How late the oldest due timer or delivery is.",
    registry=REGISTRY,
)
ENGINE_FAILURES = Counter(
    "tocsin_engine_failures", "Timers whose application raised; each paged the fallback.",
    registry=REGISTRY,
)
# `reason`: undeliverable (no channel could deliver a page), nobody_found (the
# final step found nobody), no_route, or other; `outcome`: fallback_paged, or
# nobody_paged when no fallback contact is configured either.
PAGING_FALLBACKS = Counter(
    "tocsin_paging_fallbacks", "Alerts sent to the fallback contact, by reason and outcome.",
    ["reason", "outcome"], registry=REGISTRY,
)
CONFIG_RELOADS = Counter(
    "tocsin_config_reloads", "Configuration reloads, by outcome.", ["outcome"],
    registry=REGISTRY,
)
# Headline figures of `tocsin report` over the last 30 days (docs/metrics.md), computed
# at most once a minute when /metrics is read; NaN while there is nothing to compute from.
# Their own registry: /metrics shows them only with `metrics: {report_gauges: true}`.
REPORT_REGISTRY = CollectorRegistry(auto_describe=True)
REPORT_INCIDENTS_PER_WEEK = Gauge(
    "tocsin_report_incidents_per_week", "Incidents declared per week, last 30 days.",
    registry=REPORT_REGISTRY,
)
REPORT_MTTA = Gauge(
    "tocsin_report_mtta_seconds", "Mean time from alert trigger to first acknowledgement.",
    registry=REPORT_REGISTRY,
)
REPORT_RESPONSE = Gauge(
    "tocsin_report_response_seconds", "Mean time from incident declaration to first response.",
    registry=REPORT_REGISTRY,
)
REPORT_MTTR = Gauge(
    "tocsin_report_mttr_seconds", "Time to resolve incidents, by severity and statistic.",
    ["severity", "statistic"], registry=REPORT_REGISTRY,
)
REPORT_ALERT_RATIOS = Gauge(
    "tocsin_report_alert_ratio",
    "Share of alerts escalated (of those paged), transient or not actionable (of all).",
    ["kind"], registry=REPORT_REGISTRY,
)
REPORT_UPTIME = Gauge(
    "tocsin_report_uptime_ratio", "Share of the last 30 days a service was not in outage.",
    ["service"], registry=REPORT_REGISTRY,
)
REPORT_ACTIONS_DONE = Gauge(
    "tocsin_report_action_items_done_ratio", "Share of recent action items completed.",
    registry=REPORT_REGISTRY,
)
REPORT_SURVEY = Gauge(
    "tocsin_report_survey_score", "Mean end-of-shift survey score (1 to 5).",
    registry=REPORT_REGISTRY,
)
