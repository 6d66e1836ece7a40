"""What `tocsin demo` tells: the alerts a team sees, its incidents, their write-ups.

Plain values only; `cli.demo` turns them into rows through the services.
The last five incidents and INC-142's post-mortem are the seed article's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlertKind:
    """A kind of alert one of the services raises now and then."""

    name: str  # Alertmanager's alertname
    title: str
    service: str
    severity: str  # critical pages the policy; warning the primary directly


ALERT_KINDS = (
    AlertKind("PaymentErrorRate", "Payment API error rate above 2%", "payment", "critical"),
    AlertKind("PaymentLatency", "Payment API p99 latency above 800 ms", "payment", "critical"),
    AlertKind("PaymentQueueDepth", "Payment settlement queue above 5,000", "payment", "warning"),
    AlertKind("ApiLatency", "Public API p99 latency above 1 s", "api", "critical"),
    AlertKind("Api5xx", "Public API 5xx above 1%", "api", "critical"),
    AlertKind("ApiDiskSpace", "api-db-2 disk 85% full", "api", "warning"),
    AlertKind("DashboardSlow", "Dashboard page load above 4 s", "dashboard", "warning"),
    AlertKind("DashboardDown", "Dashboard health check failing", "dashboard", "critical"),
    AlertKind("EmailBacklog", "Email send queue older than 10 min", "email", "critical"),
    AlertKind("EmailBounces", "Email bounce rate above 5%", "email", "warning"),
    AlertKind("LoginFailures", "Login failure rate above 10%", "login", "critical"),
    AlertKind("LoginCertExpiry", "login.company.com certificate expires in 14 days", "login",
              "warning"),
    AlertKind("NodeMemory", "worker-7 memory above 90%", "api", "warning"),
)

# How an alert's life goes, with its weight among the demo's alerts:
# acked by the person paged within minutes; acked only after the step timed
# out (the secondary acknowledges); resolved by its source before anyone
# acked (transient); acked, found to need no action, marked and closed.
OUTCOMES: tuple[tuple[str, int], ...] = (
    ("acked", 55), ("escalated", 10), ("transient", 22), ("noise", 13))


@dataclass(frozen=True)
class StoryIncident:
    title: str
    severity: str
    commander: str
    duration_minutes: int
    users_affected: int
    root_cause: str
    service: str
    category: str  # one of the default root-cause categories
    days_ago: float  # when it starts, back from the end of the history


# INC-123 .. INC-137: the quarter before the seed's incidents.
EARLIER = (
    StoryIncident("Checkout double charges for wallet payments", "SEV2", "bob", 50, 900,
                  "Retry without idempotency key after a gateway timeout", "payment",
                  "software bug", 88),
    StoryIncident("Password reset e-mails not sent", "SEV3", "carol", 95, 1200,
                  "Template variable renamed in a deploy", "email", "deployment", 84),
    StoryIncident("Partner API returning 429 to all clients", "SEV2", "alice", 40, 3000,
                  "Rate limiter config pushed with a limit of 10 per hour", "api",
                  "configuration change", 79),
    StoryIncident("Dashboard charts empty for EU accounts", "SEV3", "dave", 150, 700,
                  "Reporting replica lagging behind after vacuum", "dashboard", "capacity", 75),
    StoryIncident("Login loop on mobile Safari", "SEV3", "carol", 110, 1500,
                  "Cookie SameSite change in the auth library upgrade", "login", "dependency",
                  70),
    StoryIncident("Payments failing for one card network", "SEV1", "alice", 32, 9000,
                  "Acquirer certificate rotated without notice", "payment", "dependency", 66),
    StoryIncident("Invoice PDFs rendering blank", "SEV4", "bob", 300, 150,
                  "Font package missing from the new base image", "dashboard", "deployment",
                  61),
    StoryIncident("API keys page slow to load", "SEV4", "dave", 240, 80,
                  "Unindexed query on the api_keys table", "api", "software bug", 56),
    StoryIncident("Receipt e-mails delayed by an hour", "SEV3", "bob", 70, 4000,
                  "Worker pool scaled to zero by an autoscaler rule", "email",
                  "configuration change", 51),
    StoryIncident("Two-factor codes rejected", "SEV2", "carol", 45, 6000,
                  "Clock drift on two auth hosts after NTP outage", "login", "hardware", 46),
    StoryIncident("Refunds stuck in pending", "SEV3", "alice", 130, 350,
                  "Settlement job crashed on a malformed record", "payment", "software bug",
                  41),
    StoryIncident("Webhook deliveries to partners failing", "SEV3", "dave", 85, 600,
                  "Egress proxy certificate bundle out of date", "api", "dependency", 36),
    StoryIncident("Dashboard login banner shows wrong plan", "SEV4", "carol", 200, 300,
                  "Feature flag default flipped", "dashboard", "configuration change", 31),
    StoryIncident("Email open tracking down", "SEV4", "bob", 360, 0,
                  "Tracking domain DNS record deleted", "email", "configuration change", 27),
    StoryIncident("API latency after database failover", "SEV3", "alice", 60, 2500,
                  "Connection storm after the primary moved", "api", "capacity", 23),
)

# INC-138 .. INC-142, the seed's table, oldest first.
SEED = (
    StoryIncident("API latency spike", "SEV2", "alice", 35, 12000, "Redis cluster failover",
                  "api", "dependency", 18),
    StoryIncident("Login page CSS broken", "SEV4", "dave", 180, 200, "CDN cache stale",
                  "login", "configuration change", 14),
    StoryIncident("Email delivery delay", "SEV2", "carol", 45, 8000, "SES rate limit hit",
                  "email", "capacity", 10),
    StoryIncident("Slow dashboard loading", "SEV3", "bob", 120, 500, "N+1 query in reports",
                  "dashboard", "software bug", 6),
    StoryIncident("Payment API 500 errors", "SEV1", "alice", 25, 15000,
                  "DB connection pool exhausted", "payment", "capacity", 2),
)

# INC-142, minute by minute from the first alert (14:05 in Bangkok).
INC_142_START = (14, 5)
INC_142_TIMELINE = (
    (0, "Alert: Payment API error rate > 5%"),
    (2, "On-call Alice acknowledged"),
    (5, "Incident channel created"),
    (7, "Root cause identified: DB connection pool"),
    (10, "Mitigation: Increased pool size"),
    (15, "Error rate dropping"),
    (25, "Fully resolved"),
)
# What each step asks about: the post-mortem prints "Why?" before it and "Because:" before
# the answer, so the seed's "Why did API return 500?" is stored as its subject.
INC_142_WHYS = (
    ("API returned 500", "DB connections timed out"),
    ("Connections timed out", "Pool exhausted"),
    ("Pool exhausted", "Spike in traffic"),
    ("Spike in traffic", "Marketing campaign launched"),
    ("Pool not sized for the spike", "No capacity planning"),
)


@dataclass(frozen=True)
class Impact:
    summary: str
    estimated_cost: str
    support_tickets: int


INC_142_IMPACT = Impact(
    summary="15,000 users unable to make payments for 25 minutes; "
            "500 support tickets created.",
    estimated_cost="150,000 THB", support_tickets=500)


@dataclass(frozen=True)
class SeedAction:
    title: str
    owner: str
    due_days: int  # after the incident
    priority: str
    status: str


# The seed's action items table (INC-142: due Jan 22 .. Feb 15 after Jan 20).
INC_142_ACTIONS = (
    SeedAction("Increase DB connection pool to 200", "dave", 2, "P0", "done"),
    SeedAction("Add pool monitoring alert at 80%", "bob", 4, "P0", "done"),
    SeedAction("Capacity planning process for campaigns", "carol", 12, "P1", "in_progress"),
    SeedAction("Load test playbook before major launches", "alice", 12, "P1", "in_progress"),
    SeedAction("Auto-scaling for DB connections", "dave", 26, "P2", "planned"),
)

# Survey answers, 1 to 5, taken in turn from this shuffled list: 3.8 on average.
SURVEY_SCORES = (4, 3, 5, 4, 2, 4, 5, 3, 4, 4)
