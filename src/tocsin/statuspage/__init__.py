"""The status page: components, public incidents, uptime (issue 7)."""
