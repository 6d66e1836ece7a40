"""Every table, imported in one place so metadata and migrations see them all."""

from tocsin.accounts import UserPassword
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.audit import AuditEntry
from tocsin.db import Base
from tocsin.escalation.store import Timer
from tocsin.incidents.store import Incident
from tocsin.keys import AppSecret
from tocsin.notify.store import Delivery, DeliveryAttempt
from tocsin.oncall.anchor_store import RotationAnchor
from tocsin.oncall.handoff_store import HandoffNotice
from tocsin.oncall.history_store import RecordedShift, ShiftWatermark
from tocsin.oncall.store import ScheduleOverride

__all__ = [
    "Alert", "AlertEvent", "AppSecret", "AuditEntry", "Base", "Delivery", "DeliveryAttempt",
    "HandoffNotice", "Incident", "RecordedShift", "RotationAnchor", "ScheduleOverride",
    "ShiftWatermark", "Timer",
    "UserPassword",
]
