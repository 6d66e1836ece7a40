"""The report as plain JSON values, shared by `tocsin report --json` and the API.

Times are `YYYY-MM-DDTHH:MM:SSZ`, durations seconds (rounded to the
millisecond), rates and uptimes fractions between 0 and 1; a figure with
nothing to compute it from is null.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.metrics.rules import Interruptions, Spread
from tocsin.metrics.service import RECENT_INCIDENTS, Report, ServiceUptime


def stamp(when: datetime | None) -> str | None:
    # isoformat, not strftime: it writes the year with four digits before 1000 too.
    if when is None:
        return None
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def seconds(span: timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds(), 3)


def spread_view(found: Spread) -> dict[str, Any]:
    return {"count": found.count, "mean_seconds": seconds(found.mean),
            "median_seconds": seconds(found.median), "p90_seconds": seconds(found.p90)}


def _pages(found: Interruptions) -> dict[str, int]:
    return {"total": found.total, "business_hours": found.business,
            "off_hours": found.off, "sleep_hours": found.sleep}


def report_view(report: Report) -> dict[str, Any]:
    alerts = report.alerts
    return {
        "since": stamp(report.since), "until": stamp(report.until),
        "recent_limit": RECENT_INCIDENTS,
        "recent_incidents": [{
            "incident": row.key, "title": row.title, "severity": row.severity,
            "status": row.status, "commander": row.commander,
            "declared_at": stamp(row.declared_at), "duration_seconds": seconds(row.duration),
            "users_affected": row.users_affected, "root_cause": row.root_cause,
        } for row in report.recent],
        "oncall_schedule": [{
            "schedule": row.schedule, "user": row.user, "name": row.name,
            "start": stamp(row.start), "end": stamp(row.end), "state": row.state,
            "pages": row.pages,
        } for row in report.schedule],
        "oncall_metrics": {
            "incidents": report.incidents,
            "incidents_per_week": round(report.incidents_per_week, 3),
            "response_time": spread_view(report.response),
            "mtta": {"count": alerts.acknowledged, "mean_seconds": seconds(alerts.ack_mean),
                     "median_seconds": seconds(alerts.ack_median),
                     "p90_seconds": seconds(alerts.ack_p90)},
            "alerts": alerts.total, "alerts_paged": alerts.paged,
            "alerts_escalated": alerts.escalated, "escalation_rate": report.escalation_rate,
            "alerts_transient": alerts.transient, "transient_rate": report.transient_rate,
            "alerts_not_actionable": alerts.not_actionable,
            "not_actionable_rate": report.not_actionable_rate,
            "mttr_by_severity": [{
                "severity": row.severity, "target_seconds": seconds(row.target),
                **spread_view(row.mttr), "within_target": row.within_target,
            } for row in report.mttr_by_severity],
            "survey": {"answers": report.survey_answers, "mean_score": report.survey_mean},
            "people": [{
                "user": person.user, "name": person.name, "timezone": person.timezone,
                "pages": _pages(person.pages), "survey_answers": person.survey_answers,
                "survey_mean": person.survey_mean,
            } for person in report.people],
        },
        "action_items": [{
            "id": row.id, "incident": row.incident, "title": row.title, "owner": row.owner,
            "due": row.due.isoformat() if row.due else None, "priority": row.priority,
            "status": row.status,
        } for row in report.action_rows],
        "reliability": {
            "uptime": report.uptime,
            "services": [{"service": s.service, "uptime": s.uptime, "basis": s.basis,
                          "note": uptime_note(s)} for s in report.services],
            "incidents": report.incidents, "by_severity": report.by_severity,
            "mttr": spread_view(report.mttr),
            "postmortems_required": report.postmortems_required,
            "postmortems_published": report.postmortems_published,
            "postmortems_in_progress": report.postmortems_in_progress,
            "action_items": {"total": report.actions.total, "done": report.actions.done,
                             "overdue": report.actions.overdue},
            "recurring_incidents": report.recurring,
            "recurring_count": report.recurring_count,
            "recurring_before": report.recurring_before,
        },
    }


def uptime_note(service: ServiceUptime) -> str | None:
    """Why a service's uptime may look better than its incidents: they never reached
    its status page components, which alone decide it."""
    if not service.unreflected:
        return None
    count = service.unreflected
    return (f"{count} outage incident{'s' if count > 1 else ''} not shown on the status "
            "page; uptime follows the status page")
