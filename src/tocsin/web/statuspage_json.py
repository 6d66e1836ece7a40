"""The Statuspage v2 public JSON, shaped from a public `PageView`.

Field names and values are Statuspage's (WIRE_FORMATS.md), so existing
widgets, dashboards and exporters read Tocsin unchanged. Ids are strings.
Only what the view holds is shown; the view holds only public things.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.oncall.rules import format_utc
from tocsin.statuspage import rules
from tocsin.statuspage.view import (
    ComponentView,
    GroupView,
    IncidentView,
    MaintenanceView,
    PageView,
    UpdateView,
)


class Shaper:
    def __init__(self, view: PageView, public_url: str) -> None:
        self.view = view
        self.base = public_url.rstrip("/") + "/status"
        self.page_id = rules.public_id("page", public_url)

    def page(self) -> dict[str, Any]:
        return {"id": self.page_id, "name": self.view.title, "url": self.base + "/",
                "time_zone": self.view.time_zone, "updated_at": _at(self.view.updated_at)}

    def status(self) -> dict[str, Any]:
        return {"indicator": self.view.indicator.indicator,
                "description": self.view.indicator.description}

    def components(self) -> list[dict[str, Any]]:
        """Flat, in the file's order; a group comes just before its first member."""
        groups = {group.name: group for group in self.view.groups}
        shown: list[dict[str, Any]] = []
        for component in self.view.components:
            group = groups.pop(component.group, None) if component.group else None
            if group is not None:
                shown.append(self._group(group))
            shown.append(self._component(component))
        return shown

    def incidents(self, incidents: list[IncidentView]) -> list[dict[str, Any]]:
        return [self.incident(incident) for incident in incidents]

    def maintenances(self, statuses: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return [self._maintenance(m) for m in self.view.maintenances
                if statuses is None or m.status in statuses]

    def summary(self) -> dict[str, Any]:
        return {"page": self.page(), "components": self.components(),
                "incidents": self.incidents(self.view.unresolved),
                "scheduled_maintenances": self.maintenances(
                    (rules.SCHEDULED, rules.IN_PROGRESS, rules.VERIFYING)),
                "status": self.status()}

    def _times(self, component: ComponentView) -> tuple[str, str]:
        history = component.history
        first = history[0][0] if history else self.view.now
        last = history[-1][0] if history else self.view.now
        return _at(first), _at(last)

    def _component(self, component: ComponentView) -> dict[str, Any]:
        created, updated = self._times(component)
        return {"id": component.id, "name": component.name, "status": component.status,
                "created_at": created, "updated_at": updated, "position": component.position,
                "description": component.description or None, "showcase": True,
                "start_date": None, "group_id": component.group_id, "page_id": self.page_id,
                "group": False, "only_show_if_degraded": False}

    def _group(self, group: GroupView) -> dict[str, Any]:
        times = [self._times(member) for member in group.members]
        return {"id": group.id, "name": group.name, "status": group.status,
                "created_at": min(t[0] for t in times), "updated_at": max(t[1] for t in times),
                "position": group.position, "description": None, "showcase": False,
                "start_date": None, "group_id": None, "page_id": self.page_id, "group": True,
                "only_show_if_degraded": False,
                "components": [member.id for member in group.members]}

    def incident(self, incident: IncidentView) -> dict[str, Any]:
        state = incident.state
        key = str(incident.id)
        return {"id": key, "name": incident.name, "status": state.status,
                "created_at": _at(incident.created_at), "updated_at": _at(incident.updated_at),
                "monitoring_at": _maybe(state.monitoring_at),
                "resolved_at": _maybe(state.resolved_at), "impact": incident.impact,
                "shortlink": f"{self.base}/incidents/{key}", "started_at": _at(state.started_at),
                "page_id": self.page_id,
                "incident_updates": [self._update(key, update) for update in incident.updates],
                "components": [self._component(c) for c in incident.components]}

    @staticmethod
    def _update(incident: str, update: UpdateView) -> dict[str, Any]:
        return {"id": str(update.id), "status": update.status, "body": update.body,
                "incident_id": incident, "created_at": _at(update.created_at),
                "updated_at": _at(update.created_at), "display_at": _at(update.display_at),
                "affected_components": [
                    {"code": a.component.id, "name": a.component.name,
                     "old_status": a.old_status, "new_status": a.new_status}
                    for a in update.affected]}

    def _maintenance(self, window: MaintenanceView) -> dict[str, Any]:
        over = window.status in (rules.VERIFYING, rules.COMPLETED)
        reached = window.end if over else window.start
        body = f"{window.name}."  # never the window's reason: that is for colleagues
        update = {"id": f"{window.id}-{window.status}", "status": window.status, "body": body,
                  "incident_id": window.id, "created_at": _at(reached),
                  "updated_at": _at(reached), "display_at": _at(reached),
                  "affected_components": [
                      {"code": c.id, "name": c.name, "old_status": rules.OPERATIONAL,
                       "new_status": rules.MAINTENANCE} for c in window.components]}
        return {"id": window.id, "name": window.name, "status": window.status,
                "created_at": _at(window.start), "updated_at": _at(reached),
                "monitoring_at": None,
                "resolved_at": _at(window.end) if window.status == rules.COMPLETED else None,
                "impact": "maintenance", "shortlink": f"{self.base}/",
                "started_at": _at(window.start), "page_id": self.page_id,
                "incident_updates": [update],
                "components": [self._component(c) for c in window.components],
                "scheduled_for": _at(window.start), "scheduled_until": _at(window.end)}


def _at(when: datetime) -> str:
    return format_utc(when)


def _maybe(when: datetime | None) -> str | None:
    return None if when is None else format_utc(when)
