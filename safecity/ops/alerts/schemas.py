"""What the alert endpoints send and accept (kept apart from the ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.bounds import Details, Id, Latitude, Line, Longitude
from safecity.ops.incident_types import HIGHEST_PRIORITY, LOWEST_PRIORITY
from safecity.ops.models import Alert, AlertSource, AlertStatus

Priority = Annotated[int, Field(ge=HIGHEST_PRIORITY, le=LOWEST_PRIORITY)]


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Line = Field(min_length=1, max_length=64)
    title: Line = Field(min_length=1, max_length=200)
    priority: Priority | None = None
    camera_id: Id | None = None
    site_id: Id | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    details: Details = Field(default_factory=dict)
    dedup_key: Line | None = Field(default=None, max_length=200)


class InboundAlertIn(BaseModel):
    """An alert from an outside system, at one of our cameras (by code) or a map point."""

    model_config = ConfigDict(extra="forbid")

    kind: Line = Field(min_length=1, max_length=64)
    title: Line = Field(min_length=1, max_length=200)
    camera: Line | None = Field(default=None, min_length=1, max_length=64)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    priority: Priority | None = None
    details: Details = Field(default_factory=dict)
    dedup_key: Line | None = Field(default=None, min_length=1, max_length=120)

    @model_validator(mode="after")
    def _located(self) -> InboundAlertIn:
        if self.camera is None and (self.latitude is None or self.longitude is None):
            raise ValueError("give camera (its code) or latitude and longitude")
        return self


class AlertOut(BaseModel):
    id: int
    source: AlertSource
    kind: str
    title: str
    priority: int
    status: AlertStatus
    camera_id: int | None
    site_id: int | None
    district_id: int | None
    latitude: float | None
    longitude: float | None
    details: dict[str, Any]
    count: int
    first_at: datetime
    last_at: datetime
    acknowledged_at: datetime | None
    incident_id: int | None
    group_id: Id | None = Field(
        default=None, description="First alert of the same kind nearby; null: alone."
    )
    group_key: str | None = Field(default=None, description="Same for every alert of a group.")
    merged: bool = Field(default=False, description="Folded into an open alert just now.")
    thumbnail_url: str | None = Field(
        default=None,
        description="The analytics event's best view (a JPEG, served scoped like the camera); "
        "null when the alert has no stored snapshot.",
    )


COMPUTED = {"merged", "thumbnail_url"}


def thumbnail_url(details: dict[str, Any] | None) -> str | None:
    """The snapshot of the analytics event that raised an alert with these ``details``, when
    it has one."""
    if not details or not details.get("snapshot"):
        return None
    event_id = details.get("event_id")
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        return None
    return f"/api/analytics/events/{event_id}/snapshot"


def alert_out(alert: Alert, *, merged: bool = False) -> AlertOut:
    """The alert as the list endpoints and the live feed send it; ``merged``: a repeat was
    just folded into it."""
    return AlertOut.model_validate(
        {
            **{
                name: getattr(alert, name) for name in AlertOut.model_fields if name not in COMPUTED
            },
            "merged": merged,
            "thumbnail_url": thumbnail_url(alert.details),
        }
    )
