"""What the analytics endpoints send and accept (kept apart from the ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator

from safecity.analytics.models import AnalyticsEvent
from safecity.analytics.rules.definitions import CameraRules, Polygon, Rule
from safecity.auth.roles import Scope
from safecity.bounds import text_problem


def _plain_names(rules: list[Rule]) -> list[Rule]:
    """A rule's name is shown on alerts and stored as text: one line, no control characters
    (PostgreSQL refuses a NUL outright)."""
    for index, rule in enumerate(rules):
        problem = text_problem(rule.name)
        if problem is not None:
            raise ValueError(f"rule {index + 1}'s name {problem}")
    return rules


class CameraRulesIn(CameraRules):
    """A camera's own rules and privacy masks, as one document (the whole of it: a rule left
    out is deleted)."""

    @field_validator("rules")
    @classmethod
    def _names_are_text(cls, rules: list[Rule]) -> list[Rule]:
        return _plain_names(rules)


class SiteRulesIn(BaseModel):
    """A site's rules, as one document: each applies to every camera of the site (a camera's
    own rule of the same name replaces it there)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list, max_length=50)

    @field_validator("rules")
    @classmethod
    def _names_are_text(cls, rules: list[Rule]) -> list[Rule]:
        names = [rule.name for rule in rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"two rules of a site share a name: {', '.join(repeated)}")
        return _plain_names(rules)


class CameraRulesOut(BaseModel):
    camera_id: int
    rules: list[Rule] = Field(description="The camera's own rules.")
    masks: list[Polygon] = Field(description="Privacy masks, in picture shares.")
    site_id: int | None = Field(description="The camera's site, when you may see it.")
    site_rules: list[Rule] = Field(
        description="Its site's rules (read-only here): the camera runs each of them unless "
        "one of its own rules has the same name."
    )


class SiteRulesOut(BaseModel):
    site_id: int
    rules: list[Rule]


class EventOut(BaseModel):
    id: int
    camera_id: int
    camera_code: str
    camera_name: str
    site_id: int | None = Field(description="The camera's site then, when you may see it.")
    district_id: int
    at: datetime = Field(description="When the rule fired.")
    started_at: datetime = Field(description="When what it saw began.")
    rule_id: int | None = Field(description="Null once the rule is deleted.")
    rule_name: str
    kind: str
    object_class: str | None
    track_id: int | None
    confidence: float
    boxes: list[list[float]] = Field(description="[x1, y1, x2, y2] in pixels of frame_size.")
    frame_size: list[int] = Field(description="[width, height] of the analysed picture.")
    clip_start: datetime
    clip_end: datetime
    alert_id: int | None = Field(description="The OCC's alert for it, once there is one.")
    details: dict[str, Any]
    snapshot_url: str | None = Field(
        description="Its best snapshot (JPEG), when one was kept and your role may see it."
    )
    recording_url: str = Field(description="The recording of its clip (the camera's clip.mp4).")


def recording_url(event: AnalyticsEvent) -> str:
    """Where the event's stretch plays: the camera's clip endpoint, as the console's
    recordings view and an incident's linked clips use it."""
    query = urlencode({"start": event.clip_start.isoformat(), "end": event.clip_end.isoformat()})
    return f"/api/cameras/{event.camera_id}/clip.mp4?{query}"


def event_out(event: AnalyticsEvent, scope: Scope, *, pictures: bool) -> EventOut:
    """The event as ``scope`` may see it (its camera and site loaded); ``pictures``: the
    caller may see its snapshot."""
    site = event.site
    shown_site = site is not None and scope.sees_site(site.district_id, site.owner_organization_id)
    return EventOut(
        id=event.id,
        camera_id=event.camera_id,
        camera_code=event.camera.code,
        camera_name=event.camera.name,
        site_id=event.site_id if shown_site else None,
        district_id=event.district_id,
        at=event.at,
        started_at=event.started_at,
        rule_id=event.rule_id,
        rule_name=event.rule_name,
        kind=event.kind,
        object_class=event.object_class,
        track_id=event.track_id,
        confidence=event.confidence,
        boxes=event.boxes,
        frame_size=event.frame_size,
        clip_start=event.clip_start,
        clip_end=event.clip_end,
        alert_id=event.alert_id,
        details=event.details,
        snapshot_url=(
            f"/api/analytics/events/{event.id}/snapshot"
            if pictures and event.snapshot is not None
            else None
        ),
        recording_url=recording_url(event),
    )


class CountSeriesOut(BaseModel):
    scope: str = Field(description="camera (the whole picture), zone or line.")
    scope_name: str = Field(description="The zone's or line's rule name; empty for camera.")
    object_class: str
    direction: str = Field(description="A line's forward or backward; empty otherwise.")
    counts: list[int] = Field(description="One per bin, in the order of bins.")


class CountsOut(BaseModel):
    camera_id: int
    bin: str = Field(description="15m, 1h or 1d.")
    bins: list[datetime] = Field(description="Each bin's start.")
    end: datetime = Field(description="The end of the last bin.")
    series: list[CountSeriesOut]
