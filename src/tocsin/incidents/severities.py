"""An open incident's severity when the file no longer configures it.

A reload may drop a severity while incidents of it are still open. The
config check cannot see the database, so the file is accepted; instead each
such incident is logged (at start and at every reload), and the code that
asks for the severity's settings (the update reminder) falls back to the
built-in severity of the same name (SEV1 to SEV4), or goes without and says
so. The incident keeps the target MTTR it was declared with.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.config.model import DEFAULT_SEVERITIES, Config, Severity
from tocsin.incidents import rules
from tocsin.incidents.store import Incident
from tocsin.logs import event

log = logging.getLogger(__name__)


def settings_of(config: Config, incident: Incident) -> Severity | None:
    """The incident's severity as configured, else the built-in one of that name, else None."""
    found = config.severity(incident.severity)
    if found is not None:
        return found
    fallback = _builtin(incident.severity)
    event(log, "incident.severity_unconfigured", level=logging.WARNING, incident=incident.key,
          severity=incident.severity,
          using=f"built-in {fallback.name}" if fallback else "nothing: no update reminders")
    return fallback


def warn_unconfigured(session: Session, config: Config) -> list[str]:
    """Log one warning per open incident whose severity the file lacks; their keys."""
    configured = {severity.name.casefold() for severity in config.severities}
    query = select(Incident).where(Incident.status != rules.RESOLVED).order_by(Incident.id)
    keys: list[str] = []
    for incident in session.scalars(query):
        if incident.severity.casefold() in configured:
            continue
        keys.append(incident.key)
        fallback = _builtin(incident.severity)
        event(log, "incident.severity_unconfigured", level=logging.WARNING,
              incident=incident.key, severity=incident.severity,
              using=f"built-in {fallback.name}" if fallback else "nothing: no update reminders",
              fix=f"add severity {incident.severity} back to the file, or change the "
                  f"incident's severity")
    return keys


def _builtin(name: str) -> Severity | None:
    return next((s for s in DEFAULT_SEVERITIES if s.name.casefold() == name.casefold()), None)
