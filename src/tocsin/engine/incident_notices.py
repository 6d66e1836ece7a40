"""Send stakeholders' e-mail notices of incidents (`incident_notices`).

Nothing is planned here: the incident services queue a notice when an
incident is declared or an update posted. Only the console copy and the
person's e-mail contact are used; a stakeholder is told, never paged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import Any, ClassVar

from tocsin.alerts.paging import CONSOLE
from tocsin.engine import notices
from tocsin.incidents import notice_store as store

CHANNELS = (CONSOLE, "email")


@dataclass
class NoticeSender(notices.NoticeSender):
    model: ClassVar[Any] = store.IncidentNotice
    prefix: ClassVar[str] = "incident_notice"

    def prepare(self, notice_id: int) -> notices.Ready:
        with self.sessions() as session:
            row = session.get(store.IncidentNotice, notice_id)
            if row is None:
                raise notices.Skip("notice no longer exists")
            user = self.config.users.get(row.user_id)
            text = row.text
        if user is None:
            raise notices.Skip("person no longer in the config")
        contacts = [(channel, address) for channel, address
                    in notices.contacts_of(self.config, user) if channel in CHANNELS]
        return notices.Ready(kind="incident.stakeholder", text=text, user=user,
                             contacts=contacts)


@dataclass
class IncidentNotices(notices.NoticeStep):
    """The engine's step for stakeholder notices: `run_due` once per pass."""

    store: ClassVar[ModuleType] = store
    prefix: ClassVar[str] = "incident_notice"
    plan_every: ClassVar[timedelta] = timedelta(days=1)

    def plan(self) -> int:
        return 0  # queued by the incident services, not planned from schedules


IncidentNotices.sender = NoticeSender
