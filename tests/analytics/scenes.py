"""Synthetic scenes with known truth for the tracker, the rules and the counts.

A scene is a few movers (a person, a car, a bag) each on a route of timed waypoints for its
foot point; the "detector" reports each mover's box at every frame, with optional jitter,
misses (occlusion) and weak scores. Pictures are 640×360, frames 5 per second from ``T0``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from itertools import pairwise

from safecity.analytics.objects import Box, Detection, ObjectClass
from safecity.analytics.rules.definitions import CameraRules, Rule
from safecity.analytics.rules.engine import RuleEngine, RuleHit
from safecity.analytics.tracking import Track, Tracker, TrackerSettings

WIDTH, HEIGHT = 640, 360
FPS = 5.0
T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC).timestamp()
"""A Friday, 09:00 UTC: on the hour, so count bins start with the scene."""

Span = tuple[float, float]


@dataclass(frozen=True)
class Mover:
    kind: ObjectClass
    route: tuple[tuple[float, float, float], ...]
    """(seconds from the scene's start, foot x, foot y), in time order; present from the first
    to the last."""
    size: tuple[float, float] = (30.0, 80.0)
    score: float = 0.9
    hidden: tuple[Span, ...] = ()
    """Spans of seconds in which the detector misses it."""
    weak: tuple[Span, ...] = ()
    """Spans in which it is found with a weak score (0.3)."""
    label: tuple[tuple[Span, ObjectClass], ...] = ()
    """Spans in which the detector calls it something else."""

    def foot(self, t: float) -> tuple[float, float] | None:
        route = self.route
        if not route[0][0] <= t <= route[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in pairwise(route):
            if t <= t1:
                share = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return (x0 + (x1 - x0) * share, y0 + (y1 - y0) * share)
        return route[-1][1], route[-1][2]

    def box(self, t: float) -> Box | None:
        foot = self.foot(t)
        if foot is None:
            return None
        x, y = foot
        w, h = self.size
        return Box(x - w / 2, y - h, x + w / 2, y)

    def detection(self, t: float, jitter: float, rng: random.Random) -> Detection | None:
        box = self.box(t)
        if box is None or _within(t, self.hidden):
            return None
        if jitter:
            box = Box(
                box.x1 + rng.uniform(-jitter, jitter),
                box.y1 + rng.uniform(-jitter, jitter),
                box.x2 + rng.uniform(-jitter, jitter),
                box.y2 + rng.uniform(-jitter, jitter),
            )
        kind = next((k for span, k in self.label if _within(t, (span,))), self.kind)
        return Detection(kind, 0.3 if _within(t, self.weak) else self.score, box)


def walk(
    kind: ObjectClass,
    start: tuple[float, float],
    end: tuple[float, float],
    t0: float,
    t1: float,
    size: tuple[float, float] = (30.0, 80.0),
    hidden: tuple[Span, ...] = (),
) -> Mover:
    """A mover going straight from ``start`` to ``end`` between ``t0`` and ``t1``."""
    return Mover(kind, ((t0, *start), (t1, *end)), size=size, hidden=hidden)


def _within(t: float, spans: Sequence[Span]) -> bool:
    return any(a <= t < b for a, b in spans)


def frames(
    movers: Sequence[Mover],
    seconds: float,
    fps: float = FPS,
    jitter: float = 0.0,
    skipped: Sequence[Span] = (),
    seed: int = 0,
) -> Iterator[tuple[float, float, list[Detection]]]:
    """(seconds from the start, the frame's time, its detections) for each frame the detector
    ran on; ``skipped`` spans are frames the pipeline dropped."""
    rng = random.Random(seed)
    for i in range(math.floor(seconds * fps) + 1):
        t = round(i / fps, 6)
        if _within(t, skipped):
            continue
        found = [mover.detection(t, jitter, rng) for mover in movers]
        yield t, T0 + t, [d for d in found if d is not None]


@dataclass(frozen=True)
class Seen:
    """A track as it was in one frame (the tracker updates its tracks in place)."""

    id: int
    object_class: ObjectClass
    box: Box
    first_seen: float
    last_seen: float
    stationary_since: float | None

    @classmethod
    def of(cls, track: Track) -> Seen:
        return cls(
            track.id,
            track.object_class,
            track.box,
            track.first_seen,
            track.last_seen,
            track.stationary_since,
        )


@dataclass(frozen=True)
class Step:
    """One frame of the tracker: seconds from the start, its time, what it reported."""

    t: float
    at: float
    tracks: tuple[Seen, ...]
    confirmed: tuple[int, ...]
    ended: tuple[Seen, ...]


def track(
    movers: Sequence[Mover],
    seconds: float,
    settings: TrackerSettings | None = None,
    jitter: float = 0.0,
    skipped: Sequence[Span] = (),
) -> list[Step]:
    tracker = Tracker(settings)
    steps = []
    for t, at, found in frames(movers, seconds, jitter=jitter, skipped=skipped):
        update = tracker.update(at, found)
        steps.append(
            Step(
                t,
                at,
                tuple(Seen.of(each) for each in update.tracks),
                tuple(each.id for each in update.confirmed),
                tuple(Seen.of(each) for each in update.ended),
            )
        )
    return steps


def watch(
    rules: Sequence[Rule],
    movers: Sequence[Mover],
    seconds: float,
    start: float = T0,
    zone: tzinfo = UTC,
    jitter: float = 0.0,
) -> list[RuleHit]:
    """The hits of ``rules`` over the scene played from ``start``, their ``at`` and
    ``started_at`` made seconds from the scene's start."""
    tracker = Tracker()
    engine = RuleEngine(CameraRules(rules=list(rules)), WIDTH, HEIGHT, zone)
    hits = []
    for t, _, found in frames(movers, seconds, jitter=jitter):
        update = tracker.update(start + t, found)
        hits.extend(engine.update(start + t, update.tracks, update.ended))
    return [
        replace(hit, at=round(hit.at - start, 3), started_at=round(hit.started_at - start, 3))
        for hit in hits
    ]
