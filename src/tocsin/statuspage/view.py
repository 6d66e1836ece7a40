"""Reading the status page: what a public or an internal reader sees now.

One read gathers it all (components with their status, groups, public
incidents with their updates, maintenance) so every JSON endpoint and the
HTML page agree. The public view holds only public components: an update's
change to an internal component, a maintenance window touching only
internal ones, and every field a person wrote for colleagues (who made an
update, the linked incident) are left out here, not in each edge.

Maintenance comes from the alert pipeline's windows (read only). A window
shows on the page when a service it names is tied to a visible component;
windows matching labels only have no component to show and stay internal.
After its end a window is `verifying` for `status_page.verifying_minutes`
(its components still under maintenance), then completed. Its public name
comes from its components (`rules.maintenance_name`): its name and reason
are written for colleagues.

The page at `now` holds only updates whose display time has come: one dated
ahead shows, with its component changes, once it is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.alerts.maintenance_overview import Listed, overview
from tocsin.config.model import Component, Config
from tocsin.statuspage import rules
from tocsin.statuspage import store as db

RECENT_INCIDENTS = 50
UPTIME_DAYS = 90
_SHOWN = frozenset({"in_force", "scheduled", "ended"})  # not cancelled


@dataclass(frozen=True)
class ComponentView:
    name: str
    id: str
    description: str
    status: str
    position: int
    group: str | None
    group_id: str | None
    history: list[tuple[datetime, str]]


@dataclass(frozen=True)
class GroupView:
    name: str
    id: str
    status: str
    position: int
    members: list[ComponentView]


@dataclass(frozen=True)
class Affected:
    component: ComponentView
    old_status: str
    new_status: str


@dataclass(frozen=True)
class UpdateView:
    id: int
    status: str
    body: str
    display_at: datetime
    created_at: datetime
    affected: list[Affected]


@dataclass(frozen=True)
class IncidentView:
    id: int
    name: str
    impact: str
    state: rules.IncidentState
    created_at: datetime
    updated_at: datetime
    updates: list[UpdateView]  # newest first by display time
    components: list[ComponentView]


@dataclass(frozen=True)
class MaintenanceView:
    id: str
    name: str
    status: str
    start: datetime
    end: datetime
    reason: str
    components: list[ComponentView]


@dataclass
class PageView:
    title: str
    time_zone: str
    now: datetime
    components: list[ComponentView] = field(default_factory=list)
    groups: list[GroupView] = field(default_factory=list)
    indicator: rules.Indicator = field(default_factory=lambda: rules.page_indicator([], []))
    incidents: list[IncidentView] = field(default_factory=list)  # newest first
    maintenances: list[MaintenanceView] = field(default_factory=list)  # by start

    @property
    def unresolved(self) -> list[IncidentView]:
        return [incident for incident in self.incidents if incident.state.open]

    @property
    def updated_at(self) -> datetime:
        times = [i.updated_at for i in self.incidents] + [c.history[-1][0]
                                                          for c in self.components if c.history]
        return max(times, default=self.now)


def page(session: Session, *, config: Config, now: datetime, internal: bool = False
         ) -> PageView:
    shown = [c for c in config.components if internal or c.public]
    histories = db.history(session, [c.name for c in shown])
    windows = _windows(session, config, shown, now)
    in_maintenance = {c.name for w in windows if w.status in rules.UNDER_WAY
                      for c in w.components}
    view = PageView(title=config.status_page.title,
                    time_zone=config.status_page.time_zone or config.timezone, now=now,
                    maintenances=windows)
    for position, component in enumerate(shown):
        # An update dated ahead counts once its display time has come.
        history = [(change.at, change.status) for change in histories[component.name]
                   if change.at <= now]
        status = rules.shown_status(rules.status_at(history, now),
                                    component.name in in_maintenance)
        view.components.append(_component(component, position, status, history))
    view.groups = _groups(view.components)
    view.incidents = _incidents(session, view.components, histories, now)
    view.indicator = rules.page_indicator([c.status for c in view.components],
                                          [i.impact for i in view.unresolved])
    # Maintenance views were built before the components' statuses were known.
    by_name = {c.name: c for c in view.components}
    view.maintenances = [_with_components(w, by_name) for w in windows]
    return view


def _component(component: Component, position: int, status: str,
               history: list[tuple[datetime, str]]) -> ComponentView:
    group_id = rules.public_id("group", component.group) if component.group else None
    return ComponentView(name=component.name, id=rules.public_id("component", component.name),
                         description=component.description, status=status,
                         position=position, group=component.group, group_id=group_id,
                         history=history)


def _groups(components: list[ComponentView]) -> list[GroupView]:
    members: dict[str, list[ComponentView]] = {}
    for component in components:
        if component.group is not None:
            members.setdefault(component.group, []).append(component)
    return [GroupView(name=name, id=rules.public_id("group", name),
                      status=rules.worst(c.status for c in found),
                      position=found[0].position, members=found)
            for name, found in members.items()]


def _incidents(session: Session, components: list[ComponentView],
               histories: dict[str, list[db.ComponentChange]], now: datetime
               ) -> list[IncidentView]:
    rows = {row.id: row for row in db.incidents(session, limit=RECENT_INCIDENTS)}
    rows.update({row.id: row for row in db.incidents(session, limit=1000, open_only=True)})
    updates = db.updates_of(session, rows)
    by_name = {c.name: c for c in components}
    by_update: dict[int, list[Affected]] = {}
    for name, changes in histories.items():
        previous = rules.OPERATIONAL
        for change in changes:
            if change.update_id is not None and name in by_name:
                by_update.setdefault(change.update_id, []).append(
                    Affected(by_name[name], previous, change.status))
            previous = change.status
    # The page at `now` holds only updates whose display time has come (ordering rule).
    due = {incident: [u for u in found if u.display_at <= now]
           for incident, found in updates.items()}
    found = [_incident(row, due[row.id], by_update) for row in rows.values() if due[row.id]]
    return sorted(found, key=lambda i: (i.state.started_at, i.id), reverse=True)


def _incident(row: db.StatusIncident, updates: list[db.StatusUpdate],
              by_update: dict[int, list[Affected]]) -> IncidentView:
    shown = [UpdateView(id=u.id, status=u.status, body=u.body, display_at=u.display_at,
                        created_at=u.created_at,
                        affected=sorted(by_update.get(u.id, []),
                                        key=lambda a: a.component.position))
             for u in reversed(rules.by_display_time(updates))]
    touched = {a.component.name: a.component for u in shown for a in u.affected}
    return IncidentView(id=row.id, name=row.name, impact=row.impact,
                        state=rules.incident_state(updates), created_at=row.created_at,
                        updated_at=row.updated_at, updates=shown,
                        components=sorted(touched.values(), key=lambda c: c.position))


def _windows(session: Session, config: Config, shown: list[Component], now: datetime
             ) -> list[MaintenanceView]:
    listed = overview(session, config=config, now=now, recent=timedelta(days=UPTIME_DAYS))
    found: list[MaintenanceView] = []
    for item in [*listed.in_force, *listed.upcoming, *listed.ended]:
        touched = [c for c in shown if c.service is not None
                   and c.service in item.window.services]
        if touched and item.status in _SHOWN:
            found.append(_maintenance(item, touched, config, now))
    return sorted(found, key=lambda m: (m.start, m.id))


def _maintenance(item: Listed, touched: list[Component], config: Config, now: datetime
                 ) -> MaintenanceView:
    placeholders = [_component(c, -1, rules.MAINTENANCE, []) for c in touched]
    status = rules.maintenance_status(
        item.window.start, item.window.end, now,
        timedelta(minutes=config.status_page.verifying_minutes))
    return MaintenanceView(id=rules.public_id("maintenance", item.key),
                           name=rules.maintenance_name(c.name for c in touched),
                           status=status, start=item.window.start,
                           end=item.window.end, reason=item.window.reason,
                           components=placeholders)


def _with_components(window: MaintenanceView, by_name: dict[str, ComponentView]
                     ) -> MaintenanceView:
    return MaintenanceView(id=window.id, name=window.name, status=window.status,
                           start=window.start, end=window.end, reason=window.reason,
                           components=[by_name[c.name] for c in window.components])
