"""SLA figures: per incident the time to acknowledge, dispatch, accept and arrive, and their
P50/P90 over a set of incidents. Pure: no database.

- acknowledge: the first linked alert raised → the first acknowledgement (opening an
  incident from an alert acknowledges it); incidents opened by hand have none;
- dispatch: incident opened → first dispatched;
- accept: first dispatched → accepted;
- arrive: accepted → on scene.

A stage not reached yet is left out of its figures, never counted as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

STAGES = ("acknowledge", "dispatch", "accept", "arrive")


@dataclass(frozen=True)
class IncidentTimes:
    opened_at: datetime
    first_alert_at: datetime | None = None
    acknowledged_at: datetime | None = None
    dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    on_scene_at: datetime | None = None


@dataclass(frozen=True)
class StageFigures:
    stage: str
    count: int
    p50_seconds: float | None
    p90_seconds: float | None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def durations(times: IncidentTimes) -> dict[str, float | None]:
    return {
        "acknowledge": _seconds(times.first_alert_at, times.acknowledged_at),
        "dispatch": _seconds(times.opened_at, times.dispatched_at),
        "accept": _seconds(times.dispatched_at, times.accepted_at),
        "arrive": _seconds(times.accepted_at, times.on_scene_at),
    }


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figures(incidents: Iterable[IncidentTimes]) -> list[StageFigures]:
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for times in incidents:
        for stage, value in durations(times).items():
            if value is not None:
                samples[stage].append(value)
    return [
        StageFigures(
            stage,
            len(samples[stage]),
            percentile(samples[stage], 0.5),
            percentile(samples[stage], 0.9),
        )
        for stage in STAGES
    ]
