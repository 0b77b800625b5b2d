"""What the incident endpoints send and accept (kept apart from the ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.bounds import Id, Latitude, Line, Longitude, Paragraph
from safecity.ops.alerts.schemas import Priority
from safecity.ops.incidents import service, sla
from safecity.ops.incidents.lifecycle import IncidentStatus, allowed_targets
from safecity.ops.models import Alert, Incident, IncidentEvent, IncidentEventKind


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_ids: list[Id] = Field(default_factory=list, max_length=100)
    type_code: Line = Field(default="other", max_length=64)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    camera_ids: list[Id] = Field(default_factory=list, max_length=100)
    priority: Priority | None = None
    summary: Paragraph | None = Field(default=None, max_length=5000)


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: IncidentStatus
    reason: Paragraph | None = Field(default=None, max_length=2000)
    police_unit_id: Id | None = Field(
        default=None, description="Dispatch to this unit instead of the routed one."
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Paragraph = Field(min_length=1, max_length=5000)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: service.StepState
    reason: Paragraph | None = Field(default=None, max_length=2000)


class IncidentOut(BaseModel):
    id: int
    number: str
    type_code: str
    priority: int
    status: IncidentStatus
    latitude: float
    longitude: float
    district_id: int | None
    police_unit_id: int | None
    opened_by: str
    opened_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    summary: str | None
    camera_ids: list[int]
    allowed: list[IncidentStatus] = Field(description="Statuses the lifecycle allows next.")


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    kind: IncidentEventKind
    from_status: IncidentStatus | None
    to_status: IncidentStatus | None
    text: str | None
    details: dict[str, Any]


class StepOut(BaseModel):
    index: int
    text: str
    state: service.StepState
    by: str | None
    at: datetime | None
    reason: str | None


class IncidentDetailOut(IncidentOut):
    events: list[EventOut]
    sop: list[StepOut] = Field(description="The checklist version the incident was opened with.")
    sop_version: int = Field(description="Which version of its type's checklist that is.")
    alert_ids: list[int]


class SlaOut(BaseModel):
    since: datetime | None
    until: datetime | None
    incidents: int
    stages: list[sla.StageFigures]


def incident_out(incident: Incident) -> IncidentOut:
    """The incident as the list endpoint and the live feed send it."""
    return IncidentOut.model_validate(_incident_fields(incident))


def incident_detail(session: Session, incident: Incident) -> IncidentDetailOut:
    """The incident with its events, checklist state and alerts."""
    events = list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        )
    )
    alert_ids = session.scalars(
        select(Alert.id).where(Alert.incident_id == incident.id).order_by(Alert.id)
    )
    return IncidentDetailOut.model_validate(
        {
            **_incident_fields(incident),
            "events": [EventOut.model_validate(e, from_attributes=True) for e in events],
            "sop": [
                StepOut.model_validate(step, from_attributes=True)
                for step in service.sop_state(incident, events)
            ],
            "sop_version": incident.checklist.version,
            "alert_ids": list(alert_ids),
        }
    )


def _incident_fields(incident: Incident) -> dict[str, Any]:
    skip = {"camera_ids", "allowed"}
    return {
        **{name: getattr(incident, name) for name in IncidentOut.model_fields if name not in skip},
        "camera_ids": sorted(camera.id for camera in incident.cameras),
        "allowed": allowed_targets(incident.status),
    }
