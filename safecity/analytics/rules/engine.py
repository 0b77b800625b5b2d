"""The rule engine: a camera's rules evaluated on its tracks, frame after frame.

Each rule fires at most once per track (once per crowd, until the crowd thins out): an event
per behaviour, not per frame. Where an object stands is its box's foot point (the middle of the
bottom edge). A track the tracker keeps through a short miss stays where it was last seen.

How each kind reads (``seconds`` is the rule's own):

- **intrusion**: a track of the rule's classes whose foot point has been in the zone for
  ``seconds`` (0: the first frame it is in).
- **loitering**: a track in the zone for more than ``seconds`` in all. Time in the zone is
  summed over the track's visits; an exit shorter than ``short_exit`` seconds counts as time in
  (a person pacing along the zone's edge), a longer one does not, but the sum is kept. Intrusion
  measures its ``seconds`` the same way.
- **line_crossing**: the track's path crosses the line in the rule's direction (see
  :class:`~safecity.analytics.rules.geometry.LineWatch` for which way is forward). One event
  per track: a person walking back and forth over the line is reported at the first crossing
  that counts; the counts of city life count every crossing.
- **crowd**: at least ``count`` tracks of the classes in the zone, continuously for
  ``seconds``; raised once, and raised again only after the count has stayed below ``count``
  for ``crowd_rearm`` seconds. The event names every track and box in the zone.
- **vehicle_stopped**: a track of the classes (vehicles) stationary, its foot point in the zone,
  for ``seconds``.
- **object_left**: a track of the classes (bags) stationary in the zone with no person within
  ``reach`` of its box widths (gap between the boxes) for ``seconds``; a person coming back
  to it starts the count again.

A rule with a schedule is evaluated only inside its watch windows (the city's local time): its
state is dropped when a window closes, and time counts from when a window opens (a car parked
at 21:50 under a rule watching from 22:00 has stopped for 60 s at 22:01). Disabled rules never
fire; tamper rules are the pipeline's, not this engine's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import numpy as np

from safecity.analytics.objects import Box, ObjectClass
from safecity.analytics.rules.definitions import (
    CameraRules,
    Crowd,
    LineCrossing,
    Loitering,
    ObjectLeft,
    StoppedVehicle,
    ZoneIntrusion,
)
from safecity.analytics.rules.geometry import LineWatch, ZoneShape
from safecity.analytics.tracking import Track
from safecity.city.schedule import in_schedule

ObjectRule = ZoneIntrusion | LineCrossing | Loitering | Crowd | StoppedVehicle | ObjectLeft


@dataclass(frozen=True, slots=True)
class RuleTiming:
    """The engine's own judgement calls, the same for every rule of a camera."""

    short_exit: float = 5.0
    """An exit from a zone shorter than this counts as time in it (loitering, intrusion)."""
    crowd_rearm: float = 30.0
    """A crowd raised is raised again only after staying under its count this long."""
    reach: float = 2.0
    """A person within this many of a left object's box widths is still with it."""
    line_margin: float = 0.1
    """A foot point is on a side of a line once clear of it by this share of its box height."""

    def __post_init__(self) -> None:
        if min(self.short_exit, self.crowd_rearm, self.reach, self.line_margin) < 0:
            raise ValueError("rule timings cannot be negative")


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule fired: what the OCC gets as an analytics event."""

    rule: str
    """The rule's name."""
    kind: str
    at: float
    """The frame in which it fired."""
    track_id: int | None
    """None for a crowd."""
    object_class: ObjectClass
    """The track's class; a crowd's most common class."""
    confidence: float
    """The track's best detection score; a crowd's mean of its tracks'."""
    boxes: tuple[Box, ...]
    """The track's box now; every box of a crowd."""
    started_at: float
    """When the behaviour began (entered the zone, stopped, crossed): where a clip starts."""
    details: Mapping[str, object] = field(default_factory=dict)
    """Per kind: direction, seconds in the zone, stopped or unattended seconds, count, ids."""


@dataclass(slots=True)
class _Presence:
    """One track's time in one rule's zone."""

    first_in: float
    stretch_from: float
    last_in: float
    earlier: float = 0.0
    """Seconds in the zone before the current stretch."""

    def seen_in(self, at: float, short_exit: float) -> float:
        """The track is in the zone at ``at``: its time in the zone so far."""
        if at - self.last_in > short_exit:
            self.earlier += self.last_in - self.stretch_from
            self.stretch_from = at
        self.last_in = at
        return self.earlier + at - self.stretch_from


@dataclass(slots=True)
class _Crowding:
    above_since: float | None = None
    below_since: float | None = None
    raised: bool = False


@dataclass(slots=True)
class _Watch:
    """One rule and what it remembers while it is on."""

    rule: ObjectRule
    classes: frozenset[ObjectClass]
    zone: ZoneShape | None
    line: LineWatch | None
    on_since: float | None = None
    """When its window opened (its first frame, for a rule with no schedule); None: off."""
    fired: set[int] = field(default_factory=set)
    presence: dict[int, _Presence] = field(default_factory=dict)
    unattended: dict[int, float] = field(default_factory=dict)
    crowd: _Crowding = field(default_factory=_Crowding)


class RuleEngine:
    """The object rules of one camera, for pictures of ``width`` × ``height`` pixels; ``zone``
    is the city's time zone, in which schedules are read."""

    def __init__(
        self,
        rules: CameraRules,
        width: int,
        height: int,
        zone: tzinfo,
        timing: RuleTiming | None = None,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"the picture must have a size, got {width}×{height}")
        self.timing = timing or RuleTiming()
        self._zone = zone
        self._watches: list[_Watch] = []
        for rule in rules.rules:
            if rule.kind == "tamper" or not rule.enabled:
                continue
            shape = None if isinstance(rule, LineCrossing) else ZoneShape(rule.zone, width, height)
            line = (
                LineWatch(rule.line, width, height, self.timing.line_margin)
                if isinstance(rule, LineCrossing)
                else None
            )
            self._watches.append(_Watch(rule, frozenset(rule.classes), shape, line))

    def update(self, at: float, tracks: Sequence[Track], ended: Sequence[Track]) -> list[RuleHit]:
        """Evaluate every rule on the frame at ``at``: ``tracks`` are the tracker's confirmed
        tracks, ``ended`` those that ended in this frame (forgotten here)."""
        hits: list[RuleHit] = []
        moment: datetime | None = None
        feet_x = np.array([track.box.foot[0] for track in tracks], dtype=np.float64)
        feet_y = np.array([track.box.foot[1] for track in tracks], dtype=np.float64)
        for watch in self._watches:
            if watch.rule.schedule:
                moment = moment or datetime.fromtimestamp(at, UTC)
                if not in_schedule(watch.rule.schedule, moment, self._zone):
                    _switch_off(watch)
                    continue
            if watch.on_since is None:
                watch.on_since = at
            for track in ended:
                _forget(watch, track.id)
            inside = (
                watch.zone.contains(feet_x, feet_y)
                if watch.zone is not None and tracks
                else np.zeros(len(tracks), dtype=bool)
            )
            candidates = [
                (track, bool(inside[i]))
                for i, track in enumerate(tracks)
                if track.object_class in watch.classes
            ]
            rule = watch.rule
            if isinstance(rule, Crowd):
                hits.extend(self._crowd(watch, rule, at, candidates))
            elif isinstance(rule, LineCrossing):
                hits.extend(_line(watch, rule, at, candidates))
            elif isinstance(rule, ZoneIntrusion | Loitering):
                hits.extend(self._time_in_zone(watch, rule, at, candidates))
            elif isinstance(rule, StoppedVehicle):
                hits.extend(_stopped(watch, rule, at, candidates))
            else:
                people = [track for track in tracks if track.object_class == ObjectClass.PERSON]
                hits.extend(self._left(watch, rule, at, candidates, people))
        return hits

    def _time_in_zone(
        self,
        watch: _Watch,
        rule: ZoneIntrusion | Loitering,
        at: float,
        candidates: list[tuple[Track, bool]],
    ) -> list[RuleHit]:
        hits = []
        for track, inside in candidates:
            if not inside or track.id in watch.fired:
                continue
            presence = watch.presence.get(track.id)
            if presence is None:
                presence = watch.presence[track.id] = _Presence(at, at, at)
            seconds = presence.seen_in(at, self.timing.short_exit)
            due = seconds > rule.seconds if isinstance(rule, Loitering) else seconds >= rule.seconds
            if due:
                watch.fired.add(track.id)
                details = {"seconds_in_zone": round(seconds, 1)}
                hits.append(_hit(rule, at, track, presence.first_in, details))
        return hits

    def _crowd(
        self, watch: _Watch, rule: Crowd, at: float, candidates: list[tuple[Track, bool]]
    ) -> list[RuleHit]:
        present = [track for track, inside in candidates if inside]
        state = watch.crowd
        if len(present) < rule.count:
            state.above_since = None
            if state.raised:
                state.below_since = state.below_since if state.below_since is not None else at
                if at - state.below_since >= self.timing.crowd_rearm:
                    state.raised, state.below_since = False, None
            return []
        state.below_since = None
        if state.above_since is None:
            state.above_since = at
        if state.raised or at - state.above_since < rule.seconds:
            return []
        state.raised = True
        classes = Counter(track.object_class for track in present)
        return [
            RuleHit(
                rule=rule.name,
                kind=rule.kind,
                at=at,
                track_id=None,
                object_class=classes.most_common(1)[0][0],
                confidence=sum(track.best_score for track in present) / len(present),
                boxes=tuple(track.box for track in present),
                started_at=state.above_since,
                details={
                    "count": len(present),
                    "track_ids": [track.id for track in present],
                    "seconds": round(at - state.above_since, 1),
                },
            )
        ]

    def _left(
        self,
        watch: _Watch,
        rule: ObjectLeft,
        at: float,
        candidates: list[tuple[Track, bool]],
        people: list[Track],
    ) -> list[RuleHit]:
        hits = []
        assert watch.on_since is not None
        for track, inside in candidates:
            if track.id in watch.fired:
                continue
            reach = self.timing.reach * track.box.width
            if (
                not inside
                or track.stationary_since is None
                or any(_gap(track.box, person.box) <= reach for person in people)
            ):
                watch.unattended.pop(track.id, None)
                continue
            alone_since = watch.unattended.setdefault(track.id, at)
            if at - alone_since >= rule.seconds:
                watch.fired.add(track.id)
                stopped = max(track.stationary_since, watch.on_since)
                details = {
                    "unattended_seconds": round(at - alone_since, 1),
                    "stationary_seconds": round(at - stopped, 1),
                }
                hits.append(_hit(rule, at, track, stopped, details))
        return hits


def _line(
    watch: _Watch, rule: LineCrossing, at: float, candidates: list[tuple[Track, bool]]
) -> list[RuleHit]:
    assert watch.line is not None and watch.on_since is not None
    hits = []
    for track, _ in candidates:
        if track.id in watch.fired:
            continue
        for crossing in watch.line.crossings(track):
            if crossing.at >= watch.on_since and rule.direction in ("any", crossing.direction):
                watch.fired.add(track.id)
                details = {"direction": crossing.direction}
                hits.append(_hit(rule, at, track, crossing.at, details))
                break
    return hits


def _stopped(
    watch: _Watch, rule: StoppedVehicle, at: float, candidates: list[tuple[Track, bool]]
) -> list[RuleHit]:
    assert watch.on_since is not None
    hits = []
    for track, inside in candidates:
        if not inside or track.stationary_since is None or track.id in watch.fired:
            continue
        stopped = max(track.stationary_since, watch.on_since)
        if at - stopped >= rule.seconds:
            watch.fired.add(track.id)
            details = {"stopped_seconds": round(at - stopped, 1)}
            hits.append(_hit(rule, at, track, stopped, details))
    return hits


def _hit(
    rule: ObjectRule, at: float, track: Track, started_at: float, details: Mapping[str, object]
) -> RuleHit:
    return RuleHit(
        rule=rule.name,
        kind=rule.kind,
        at=at,
        track_id=track.id,
        object_class=track.object_class,
        confidence=track.best_score,
        boxes=(track.box,),
        started_at=started_at,
        details=details,
    )


def _gap(a: Box, b: Box) -> float:
    """The distance between two boxes' nearest edges (0 when they overlap)."""
    dx = max(0.0, a.x1 - b.x2, b.x1 - a.x2)
    dy = max(0.0, a.y1 - b.y2, b.y1 - a.y2)
    return math.hypot(dx, dy)


def _forget(watch: _Watch, track_id: int) -> None:
    watch.fired.discard(track_id)
    watch.presence.pop(track_id, None)
    watch.unattended.pop(track_id, None)
    if watch.line is not None:
        watch.line.forget(track_id)


def _switch_off(watch: _Watch) -> None:
    """The rule's window closed: what it watched starts afresh when the next one opens."""
    if watch.on_since is None:
        return
    watch.on_since = None
    watch.fired.clear()
    watch.presence.clear()
    watch.unattended.clear()
    watch.crowd = _Crowding()
    if watch.line is not None:
        watch.line.clear()
