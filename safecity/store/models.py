"""Every capability's tables, imported so that ``Base.metadata`` knows the whole schema."""

from safecity.analytics.models import AnalyticsEvent, AnalyticsRule, CameraMasks, TrafficCount
from safecity.audit.models import AuditEntry
from safecity.auth.models import LoginSession, User
from safecity.city.models import Camera, District, Organization, PoliceUnit, Site
from safecity.insights.models import CrimeRecord
from safecity.ops.alerts.rule_models import AlertRule
from safecity.ops.dispatch.models import Notification
from safecity.ops.incident_types.models import ChecklistVersion, StoredIncidentType
from safecity.ops.incidents.attachment_models import IncidentAttachment, IncidentClip
from safecity.ops.models import Alert, Incident, IncidentEvent
from safecity.ops.shifts.models import Escalation, Handover, Shift, ShiftOperator
from safecity.planning.requests.models import CameraRequest
from safecity.store.base import Base
from safecity.store.counters import Counter
from safecity.video.models import (
    CameraStream,
    EvidenceExport,
    LegalHold,
    RecordedSegment,
    RecordingPurge,
)

__all__ = [
    "Alert",
    "AlertRule",
    "AnalyticsEvent",
    "AnalyticsRule",
    "AuditEntry",
    "Base",
    "Camera",
    "CameraMasks",
    "CameraRequest",
    "CameraStream",
    "ChecklistVersion",
    "Counter",
    "CrimeRecord",
    "District",
    "Escalation",
    "EvidenceExport",
    "Handover",
    "Incident",
    "IncidentAttachment",
    "IncidentClip",
    "IncidentEvent",
    "LegalHold",
    "LoginSession",
    "Notification",
    "Organization",
    "PoliceUnit",
    "RecordedSegment",
    "RecordingPurge",
    "Shift",
    "ShiftOperator",
    "Site",
    "StoredIncidentType",
    "TrafficCount",
    "User",
]
