"""Every capability's tables, imported so that ``Base.metadata`` knows the whole schema."""

from safecity.audit.models import AuditEntry
from safecity.auth.models import LoginSession, User
from safecity.city.models import Camera, District, Organization, PoliceUnit, Site
from safecity.insights.models import CrimeRecord
from safecity.ops.models import Alert, Incident, IncidentEvent
from safecity.store.base import Base
from safecity.video.models import (
    CameraStream,
    EvidenceExport,
    LegalHold,
    RecordedSegment,
    RecordingPurge,
)

__all__ = [
    "Alert",
    "AuditEntry",
    "Base",
    "Camera",
    "CameraStream",
    "CrimeRecord",
    "District",
    "EvidenceExport",
    "Incident",
    "IncidentEvent",
    "LegalHold",
    "LoginSession",
    "Organization",
    "PoliceUnit",
    "RecordedSegment",
    "RecordingPurge",
    "Site",
    "User",
]
