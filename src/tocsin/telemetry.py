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
