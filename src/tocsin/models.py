"""Every table, imported in one place so metadata and migrations see them all."""

from tocsin.accounts import UserPassword
from tocsin.alerts.flapping_store import KeyChanges
from tocsin.alerts.group_store import AlertGroup
from tocsin.alerts.heartbeat_store import HeartbeatState
from tocsin.alerts.maintenance_store import MaintenanceHold, StoredWindow
from tocsin.alerts.replay_store import AnsweredRequest
from tocsin.alerts.request_store import AlertRequest
from tocsin.alerts.store import Alert, AlertEvent, ChangeEvent
from tocsin.alerts.storm_store import RouteStorm
from tocsin.audit import AuditEntry
from tocsin.db import Base
from tocsin.escalation.store import Chain, Timer
from tocsin.incidents.notice_store import IncidentNotice
from tocsin.incidents.store import (
    Incident,
    IncidentAlert,
    IncidentMember,
    IncidentRole,
    IncidentUpdate,
    SlackTask,
    TimelineRow,
)
from tocsin.keys import AppSecret
from tocsin.metrics.store import ShiftSurvey
from tocsin.notify.bundle_store import StormBundle, StormBundleItem
from tocsin.notify.pagerduty_store import PagerDutyFollowUp
from tocsin.notify.store import Delivery, DeliveryAttempt
from tocsin.oncall.anchor_store import RotationAnchor
from tocsin.oncall.gap_notice_store import GapNotice
from tocsin.oncall.handoff_store import HandoffNotice
from tocsin.oncall.history_store import RecordedShift, ShiftWatermark
from tocsin.oncall.store import ScheduleOverride
from tocsin.postmortems.actions_store import ActionItemNotice, TrackerPush
from tocsin.postmortems.store import ActionItem, Postmortem
from tocsin.statuspage.store import ComponentChange, StatusIncident, StatusUpdate
from tocsin.statuspage.subscribers_store import StatusFanout, StatusNotice, StatusSubscriber

__all__ = [
    "ActionItem",
    "ActionItemNotice",
    "Alert",
    "AlertEvent",
    "AlertGroup",
    "AlertRequest",
    "AnsweredRequest",
    "AppSecret",
    "AuditEntry",
    "Base",
    "Chain",
    "ChangeEvent",
    "ComponentChange",
    "Delivery",
    "DeliveryAttempt",
    "GapNotice",
    "HandoffNotice",
    "HeartbeatState",
    "Incident",
    "IncidentAlert",
    "IncidentMember",
    "IncidentNotice",
    "IncidentRole",
    "IncidentUpdate",
    "KeyChanges",
    "MaintenanceHold",
    "PagerDutyFollowUp",
    "Postmortem",
    "RecordedShift",
    "RotationAnchor",
    "RouteStorm",
    "ScheduleOverride",
    "ShiftSurvey",
    "ShiftWatermark",
    "SlackTask",
    "StatusFanout",
    "StatusIncident",
    "StatusNotice",
    "StatusSubscriber",
    "StatusUpdate",
    "StoredWindow",
    "StormBundle",
    "StormBundleItem",
    "TimelineRow",
    "Timer",
    "TrackerPush",
    "UserPassword",
]
