"""Counts of city life: people and vehicles per camera, per zone and per line, per time bin.

What counts, by object class, in bins of ``bin_seconds`` (15 minutes) aligned to the UTC clock:

- **camera**: each track once, in the frame it is confirmed;
- **zone** (each enabled zone rule's zone, named by the rule): each track once, in the first
  frame its foot point is in the zone;
- **line** (each enabled line rule, named by the rule): every crossing, forward and backward
  apart, whatever direction the rule itself watches — a person walking back and forth counts
  each time.

Counts are statistics, not alerts: rules' schedules do not apply (a disabled rule counts
nothing). Each count goes into the bin of the frame in which it was made. Only bins with
something in them become rows; a bin without a row had nobody.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from safecity.analytics.objects import ObjectClass
from safecity.analytics.rules.definitions import CameraRules, LineCrossing
from safecity.analytics.rules.geometry import LineWatch, ZoneShape
from safecity.analytics.tracking import TrackerUpdate

Scope = Literal["camera", "zone", "line"]
CountDirection = Literal["", "forward", "backward"]
_Key = tuple[int, Scope, str, ObjectClass, CountDirection]


@dataclass(frozen=True, slots=True)
class CountRow:
    bin_start: datetime
    """The bin's start, UTC."""
    scope: Scope
    scope_name: str
    """The zone's or line's rule name; empty for the camera."""
    object_class: ObjectClass
    direction: CountDirection
    """For a line, which way; empty otherwise."""
    count: int


class CountBins:
    """The counts of one camera, for pictures of ``width`` × ``height`` pixels."""

    def __init__(
        self,
        rules: CameraRules,
        width: int,
        height: int,
        bin_seconds: int = 900,
        line_margin: float = 0.1,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"the picture must have a size, got {width}×{height}")
        if not 60 <= bin_seconds <= 86400 or 86400 % bin_seconds:
            raise ValueError(
                f"a count bin must divide a day into whole bins of a minute or more, got "
                f"{bin_seconds} s"
            )
        self.bin_seconds = bin_seconds
        self._zones: list[tuple[str, ZoneShape]] = []
        self._lines: list[tuple[str, LineWatch]] = []
        for rule in rules.rules:
            if rule.kind == "tamper" or not rule.enabled:
                continue
            if isinstance(rule, LineCrossing):
                self._lines.append((rule.name, LineWatch(rule.line, width, height, line_margin)))
            else:
                self._zones.append((rule.name, ZoneShape(rule.zone, width, height)))
        self._entered: list[set[int]] = [set() for _ in self._zones]
        self._counts: dict[_Key, int] = {}
        self._drained_to = -math.inf

    def update(self, tracked: TrackerUpdate) -> None:
        """Count what one frame of the tracker shows."""
        at = tracked.at
        if at < self._drained_to:
            raise ValueError(
                f"a frame at {at} is older than the counts already drained (to {self._drained_to})"
            )
        start = int(at // self.bin_seconds) * self.bin_seconds
        for track in tracked.confirmed:
            self._add((start, "camera", "", track.object_class, ""))
        tracks = tracked.tracks
        if tracks and self._zones:
            feet_x = np.array([track.box.foot[0] for track in tracks], dtype=np.float64)
            feet_y = np.array([track.box.foot[1] for track in tracks], dtype=np.float64)
            for (name, shape), entered in zip(self._zones, self._entered, strict=True):
                for track, inside in zip(tracks, shape.contains(feet_x, feet_y), strict=True):
                    if inside and track.id not in entered:
                        entered.add(track.id)
                        self._add((start, "zone", name, track.object_class, ""))
        for name, line in self._lines:
            for track in tracks:
                for crossing in line.crossings(track):
                    self._add((start, "line", name, track.object_class, crossing.direction))
        for track in tracked.ended:
            for entered in self._entered:
                entered.discard(track.id)
            for _, line in self._lines:
                line.forget(track.id)

    def drain(self, until_at: float) -> list[CountRow]:
        """The rows of every bin that ended by ``until_at``, taken out; frames older than that
        cannot be counted afterwards."""
        self._drained_to = max(self._drained_to, until_at)
        done = [key for key in self._counts if key[0] + self.bin_seconds <= until_at]
        return self._take(done)

    def flush(self) -> list[CountRow]:
        """The rows of every bin, the current one included (the camera stops)."""
        return self._take(list(self._counts))

    def _add(self, key: _Key) -> None:
        self._counts[key] = self._counts.get(key, 0) + 1

    def _take(self, keys: list[_Key]) -> list[CountRow]:
        return [
            CountRow(
                bin_start=datetime.fromtimestamp(start, UTC),
                scope=scope,
                scope_name=name,
                object_class=object_class,
                direction=direction,
                count=self._counts.pop((start, scope, name, object_class, direction)),
            )
            for start, scope, name, object_class, direction in sorted(keys)
        ]
