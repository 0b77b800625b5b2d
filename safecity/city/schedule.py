"""A site's own schedule and tasks, validated before they are stored as JSON, and whether a
moment falls in its watch windows (the OCC's alert rules and the cameras' analytics rules ask)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.bounds import Paragraph

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WatchWindow(BaseModel):
    """A weekly period in which the site's tasks are active. ``end`` before ``start`` runs
    past midnight (22:00–06:00)."""

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1, max_length=7)
    start: time = Field(description="Local time the window opens.")
    end: time = Field(description="Local time the window closes.")

    @model_validator(mode="after")
    def _not_empty(self) -> WatchWindow:
        if self.start == self.end:
            raise ValueError("a watch window needs different start and end times")
        return self


def in_schedule(windows: Sequence[WatchWindow], at: datetime, zone: tzinfo) -> bool:
    """Whether ``at`` falls in one of the weekly windows, read in the city's time zone. A
    window past midnight (22:00–06:00) belongs to the day it opens: Friday's runs into
    Saturday morning."""
    if not windows:
        return True
    local = at.astimezone(zone)
    today = ALL_DAYS[local.weekday()]
    yesterday = ALL_DAYS[(local - timedelta(days=1)).weekday()]
    clock = local.time().replace(tzinfo=None)
    for window in windows:
        if window.start < window.end:
            if today in window.days and window.start <= clock < window.end:
                return True
        elif (today in window.days and clock >= window.start) or (
            yesterday in window.days and clock < window.end
        ):
            return True
    return False


TaskKind = Literal[
    "intrusion",
    "loitering",
    "crowd",
    "line_crossing",
    "vandalism",
    "fire_smoke",
    "tamper",
    "patrol_check",
]


class SiteTask(BaseModel):
    """Something to watch for at a site, e.g. loitering in the school yard after hours."""

    model_config = ConfigDict(extra="forbid")

    kind: TaskKind
    description: Paragraph = Field(min_length=1, max_length=500)
    during_schedule_only: bool = Field(
        default=True, description="Only inside the site's watch windows."
    )
