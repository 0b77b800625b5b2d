"""Tracking: each object the detector finds gets a stable id, a path and a best view.

SORT and ByteTrack in one page (norfair pins numpy<2; supervision dropped its ByteTrack):

- A track's box (centre x, centre y, width, height) follows a constant-velocity Kalman filter,
  one position/velocity pair per coordinate, its noise in shares of the box's height (a near
  person moves more pixels than a far one). Time steps are in seconds, not frames: the detect
  rate varies and frames are dropped, and a longer gap simply widens the uncertainty.
- Association in ByteTrack's order, each step an optimal assignment (Hungarian):
  1. confident detections (``score >= high_score``) against every track, by IoU with the
     track's predicted box;
  2. what is left of both, by centre distance within ``centre_gate`` box sizes: a small, fast
     object (a far cyclist at 5 fps) whose box no longer overlaps its prediction, or a new
     track whose speed is not known yet. Kept apart from step 1 so that a distance match never
     wins over an overlap;
  3. weak detections (``low_score`` to ``high_score``: often a partly hidden object) against
     the confirmed tracks still unmatched, by a strict IoU (``low_min_iou``).
- A detection matches only a track of its family: a person never becomes a car, but a car the
  detector calls a truck for a frame stays one track. The track's class is a vote over its
  detections, weighted by score.
- A confident detection left over starts a tentative track; ``min_hits`` matches confirm it and
  only then give it its id, so ids count up from 1 without gaps. A tentative track dies at its
  first miss (ByteTrack's rule: most are one-frame false detections); a confirmed one is kept
  through misses for ``max_age`` seconds, then ends.

Call :meth:`Tracker.update` for each frame the detector ran on (not for frames it skipped, or
the tracks would age as if their objects had gone). Feed it the detector's weak boxes too: the
third step lives on them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from safecity.analytics.objects import Box, Detection, ObjectClass

_FAMILY = {
    ObjectClass.PERSON: 0,
    ObjectClass.BICYCLE: 1,
    ObjectClass.MOTORCYCLE: 1,
    ObjectClass.CAR: 2,
    ObjectClass.BUS: 2,
    ObjectClass.TRUCK: 2,
    ObjectClass.BAG: 3,
}
"""Classes a detector confuses with each other; a track never leaves its family."""
_NO = 1e9
"""The cost of a pair that may not match."""

# The Kalman filter's noise, in box heights (per second², per second, or plain).
_ACCELERATION = (2.0, 2.0, 0.5, 0.5)
"""How fast the centre (x, y) and the size (w, h) may change speed."""
_MEASUREMENT = 0.05
"""How far a detected box's edges stray from the object's."""
_FIRST_SPEED = 1.0
"""The speed a new track may have before it has been measured."""

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    min_hits: int = 3
    """Matches that confirm a tentative track (1: every confident detection at once)."""
    max_age: float = 3.0
    """Seconds a confirmed track is kept through misses (an occlusion) before it ends."""
    high_score: float = 0.5
    """A detection at least this sure matches in the first steps and may start a track."""
    low_score: float = 0.1
    """Weaker detections are ignored; those between the two only keep a track going."""
    min_iou: float = 0.2
    """The least overlap of a confident detection with a track's predicted box."""
    low_min_iou: float = 0.5
    """The least overlap of a weak detection with a track's predicted box."""
    centre_gate: float = 2.0
    """How far, in box sizes (the mean of width and height), a detection may lie from a
    track's predicted centre and still match it when the boxes do not overlap."""
    person_centre_gate: float = 1.0
    """The same for people, who walk a fraction of their size between frames and stand close
    together: a wider gate let a track kept through a miss take a neighbour's detection (two
    spurious line crossings in vtest.avi)."""
    path_length: int = 256
    """Foot points kept per track (the newest)."""
    stationary_share: float = 0.2
    """A track that keeps its box centre within this share of its size of one point ..."""
    stationary_seconds: float = 1.0
    """... for this many seconds is stationary (since it came to that point)."""

    def __post_init__(self) -> None:
        if self.min_hits < 1:
            raise ValueError("min_hits must be at least 1")
        if not 0 < self.low_score <= self.high_score <= 1:
            raise ValueError("scores need 0 < low_score <= high_score <= 1")
        if not (0 < self.min_iou <= 1 and 0 < self.low_min_iou <= 1):
            raise ValueError("min_iou and low_min_iou must be in (0, 1]")
        if self.max_age < 0 or self.stationary_seconds < 0:
            raise ValueError("max_age and stationary_seconds cannot be negative")
        if min(self.centre_gate, self.person_centre_gate) < 0 or self.stationary_share <= 0:
            raise ValueError("centre_gate cannot be negative, stationary_share must be positive")
        if self.path_length < 2:
            raise ValueError("path_length must be at least 2")


class PathPoint(NamedTuple):
    at: float
    """The frame's time."""
    x: float
    y: float
    """The foot point (:attr:`Box.foot`) of the track's box, in pixels."""


@dataclass(frozen=True, slots=True)
class BestView:
    """The frame that showed the object best: the snapshot the OCC gets."""

    at: float
    """The frame's time."""
    box: Box
    """The detection's own box in that frame (not the smoothed one): what to crop."""
    value: float
    """Box area × the caller's quality for it (the detection's score when none is given)."""


class _Motion:
    """A constant-velocity Kalman filter on (cx, cy, w, h), one 2×2 block per coordinate:
    the coordinates do not mix, so the 8×8 covariance of SORT is four independent blocks and
    plain floats do the work of matrices."""

    __slots__ = ("p00", "p01", "p11", "position", "speed")

    def __init__(self, box: Box) -> None:
        cx, cy = box.centre
        self.position = [cx, cy, box.width, box.height]
        self.speed = [0.0, 0.0, 0.0, 0.0]
        scale = max(box.height, 1.0)
        self.p00 = [(_MEASUREMENT * scale) ** 2] * 4
        self.p01 = [0.0] * 4
        self.p11 = [(_FIRST_SPEED * scale) ** 2] * 4

    def predict(self, dt: float) -> None:
        if dt <= 0:
            return
        scale = max(self.position[3], 1.0)
        for i in range(4):
            q = (_ACCELERATION[i] * scale) ** 2
            p01, p11 = self.p01[i], self.p11[i]
            self.p00[i] += dt * (2 * p01 + dt * p11) + q * dt**4 / 4
            self.p01[i] = p01 + dt * p11 + q * dt**3 / 2
            self.p11[i] = p11 + q * dt * dt
            self.position[i] += self.speed[i] * dt

    def correct(self, box: Box) -> None:
        cx, cy = box.centre
        measured = (cx, cy, box.width, box.height)
        r = (_MEASUREMENT * max(box.height, 1.0)) ** 2
        for i in range(4):
            p00, p01 = self.p00[i], self.p01[i]
            k0 = p00 / (p00 + r)
            k1 = p01 / (p00 + r)
            error = measured[i] - self.position[i]
            self.position[i] += k0 * error
            self.speed[i] += k1 * error
            self.p11[i] -= k1 * p01
            self.p01[i] = (1 - k0) * p01
            self.p00[i] = (1 - k0) * p00

    def corners(self, dt: float = 0.0) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) now, or ``dt`` seconds ahead at the present speed."""
        cx, cy, w, h = self.position
        vx, vy, vw, vh = self.speed
        cx, cy = cx + vx * dt, cy + vy * dt
        half_w, half_h = max(w + vw * dt, 1.0) / 2, max(h + vh * dt, 1.0) / 2
        return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def box(self, dt: float = 0.0) -> Box:
        return Box(*self.corners(dt))


class Track:
    """One object followed over time. The tracker updates it in place each frame."""

    __slots__ = (
        "_anchor",
        "_motion",
        "_votes",
        "best",
        "best_score",
        "box",
        "first_seen",
        "hits",
        "id",
        "last_seen",
        "object_class",
        "path",
        "score",
        "stationary_since",
    )

    def __init__(self, at: float, detection: Detection, view: float, path_length: int) -> None:
        self.id = 0
        """Per camera, from 1, given when the track is confirmed (0 while tentative)."""
        self.object_class = detection.object_class
        """The class most of its detections had (weighted by score)."""
        self.first_seen = at
        """When the object entered: the frame of its first detection."""
        self.last_seen = at
        """The frame of its latest detection; once ended, when it left."""
        self._motion = _Motion(detection.box)
        self.box = detection.box
        """Where it is: the smoothed box at its latest detection."""
        self.score = detection.score
        """Its latest detection's score."""
        self.best_score = detection.score
        self.best = BestView(at, detection.box, view)
        self.path: deque[PathPoint] = deque(maxlen=path_length)
        """Its foot points, oldest first (the newest ``path_length``)."""
        self.path.append(PathPoint(at, *detection.box.foot))
        self.stationary_since: float | None = None
        """Since when its centre has stayed put (see ``TrackerSettings``); None: moving."""
        self.hits = 1
        self._votes = {detection.object_class: detection.score}
        self._anchor = (*detection.box.centre, at)

    @property
    def confirmed(self) -> bool:
        return self.id > 0

    def __repr__(self) -> str:
        return f"Track({self.id}, {self.object_class}, {self.box}, seen {self.last_seen})"

    def _hit(self, at: float, detection: Detection, view: float, settings: TrackerSettings) -> None:
        self._motion.correct(detection.box)
        self.box = self._motion.box()
        self.last_seen = at
        self.hits += 1
        self.score = detection.score
        self.best_score = max(self.best_score, detection.score)
        kind = detection.object_class
        self._votes[kind] = self._votes.get(kind, 0.0) + detection.score
        if kind != self.object_class and self._votes[kind] > self._votes[self.object_class]:
            self.object_class = kind
        self.path.append(PathPoint(at, *self.box.foot))
        if view > self.best.value:
            self.best = BestView(at, detection.box, view)
        self._settle(at, settings)

    def _settle(self, at: float, settings: TrackerSettings) -> None:
        cx, cy = self.box.centre
        ax, ay, since = self._anchor
        reach = settings.stationary_share * (self.box.width + self.box.height) / 2
        if math.hypot(cx - ax, cy - ay) > reach:
            self._anchor = (cx, cy, at)
            self.stationary_since = None
        elif at - since >= settings.stationary_seconds:
            self.stationary_since = since


@dataclass(frozen=True, slots=True)
class TrackerUpdate:
    at: float
    tracks: tuple[Track, ...]
    """The confirmed tracks kept: seen in this frame or missed for no longer than max_age."""
    confirmed: tuple[Track, ...]
    """Those of them confirmed in this frame."""
    ended: tuple[Track, ...]
    """Confirmed tracks that ended in this frame; ``first_seen`` and ``last_seen`` say when
    their objects entered and left."""


class Tracker:
    """The tracks of one camera."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._tracks: list[Track] = []
        self._at: float | None = None
        self._next_id = 1

    def update(
        self,
        at: float,
        detections: Sequence[Detection],
        qualities: Sequence[float] | None = None,
    ) -> TrackerUpdate:
        """Match one frame's detections to the tracks. ``qualities`` (one per detection, e.g.
        a sharpness measure of its crop) weigh the choice of each track's best view, which is
        the largest box by that weight (by the detection's score when not given)."""
        if qualities is not None and len(qualities) != len(detections):
            raise ValueError(
                f"{len(qualities)} qualities given for {len(detections)} detections; "
                "give one per detection or none"
            )
        if not math.isfinite(at):
            raise ValueError(f"a frame's time must be a finite number, got {at}")
        if self._at is not None and at < self._at:
            raise ValueError(f"frames must come in time order: {at} after {self._at}")
        settings = self.settings
        dt = 0.0 if self._at is None else at - self._at
        self._at = at
        for track in self._tracks:
            track._motion.predict(dt)

        tracks = self._tracks
        predicted = np.array([track._motion.corners() for track in tracks], dtype=np.float64)
        track_families = np.array([_FAMILY[track.object_class] for track in tracks], dtype=int)
        gates = np.where(
            track_families == _FAMILY[ObjectClass.PERSON],
            settings.person_centre_gate,
            settings.centre_gate,
        )
        found = np.array([(d.box.x1, d.box.y1, d.box.x2, d.box.y2) for d in detections])
        families = np.array([_FAMILY[d.object_class] for d in detections], dtype=int)
        strong = [i for i, d in enumerate(detections) if d.score >= settings.high_score]
        weak = [
            i
            for i, d in enumerate(detections)
            if settings.low_score <= d.score < settings.high_score
        ]

        def match(
            rows: list[int], columns: list[int], by_distance: bool, least_iou: float
        ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
            if not rows or not columns:
                return [], rows, columns
            a, b = predicted[rows], found[columns]
            if by_distance:
                cost = _distance_cost(a, b, gates[rows])
            else:
                cost = 1.0 - _iou(a, b)
                cost[cost > 1.0 - least_iou] = _NO
            cost[track_families[rows][:, None] != families[columns][None, :]] = _NO
            picked_rows, picked_columns = linear_sum_assignment(cost)
            pairs = [
                (rows[r], columns[c])
                for r, c in zip(picked_rows, picked_columns, strict=True)
                if cost[r, c] < _NO
            ]
            taken_rows = {r for r, _ in pairs}
            taken_columns = {c for _, c in pairs}
            return (
                pairs,
                [r for r in rows if r not in taken_rows],
                [c for c in columns if c not in taken_columns],
            )

        first, left_tracks, left_strong = match(
            list(range(len(tracks))), strong, False, settings.min_iou
        )
        second, left_tracks, left_strong = match(left_tracks, left_strong, True, 0.0)
        confirmed_left = [i for i in left_tracks if tracks[i].confirmed]
        third, _, _ = match(confirmed_left, weak, False, settings.low_min_iou)

        def view(i: int) -> float:
            quality = detections[i].score if qualities is None else qualities[i]
            return detections[i].box.area * quality

        newly: list[Track] = []
        matched: set[int] = set()
        for t, d in first + second + third:
            track = tracks[t]
            track._hit(at, detections[d], view(d), settings)
            matched.add(t)
            if not track.confirmed and track.hits >= settings.min_hits:
                self._confirm(track)
                newly.append(track)

        kept: list[Track] = []
        ended: list[Track] = []
        for i, track in enumerate(tracks):
            if i in matched:
                kept.append(track)
            elif track.confirmed:
                (kept if at - track.last_seen <= settings.max_age else ended).append(track)
        for d in left_strong:
            track = Track(at, detections[d], view(d), settings.path_length)
            if settings.min_hits <= 1:
                self._confirm(track)
                newly.append(track)
            kept.append(track)
        self._tracks = kept
        return TrackerUpdate(
            at=at,
            tracks=tuple(track for track in kept if track.confirmed),
            confirmed=tuple(newly),
            ended=tuple(ended),
        )

    def predicted(self, at: float) -> list[tuple[Track, Box]]:
        """Each kept track (tentative ones included) with where its object should be at ``at``
        (the next frame): the regions the detector looks at even where nothing moves; the
        caller chooses which (objects standing still less often)."""
        ahead = 0.0 if self._at is None else max(at - self._at, 0.0)
        return [(track, track._motion.box(ahead)) for track in self._tracks]

    def finish(self) -> TrackerUpdate:
        """End every confirmed track (the stream or file stopped): their objects left when
        last seen."""
        at = self._at if self._at is not None else 0.0
        ended = tuple(track for track in self._tracks if track.confirmed)
        self._tracks = []
        return TrackerUpdate(at=at, tracks=(), confirmed=(), ended=ended)

    def _confirm(self, track: Track) -> None:
        track.id = self._next_id
        self._next_id += 1


def _iou(a: Floats, b: Floats) -> Floats:
    """IoU of every box in ``a`` with every box in ``b``."""
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou: Floats = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou


def _distance_cost(a: Floats, b: Floats, gates: Floats) -> Floats:
    """Centre distance in box sizes (the larger of the two), over each track's gate; pairs
    farther than the gate, or whose sizes differ more than twofold, may not match."""
    size_a = ((a[:, 2] - a[:, 0]) + (a[:, 3] - a[:, 1])) / 2
    size_b = ((b[:, 2] - b[:, 0]) + (b[:, 3] - b[:, 1])) / 2
    dx = (a[:, None, 0] + a[:, None, 2] - b[None, :, 0] - b[None, :, 2]) / 2
    dy = (a[:, None, 1] + a[:, None, 3] - b[None, :, 1] - b[None, :, 3]) / 2
    larger = np.maximum(np.maximum(size_a[:, None], size_b[None, :]), 1.0)
    smaller = np.minimum(size_a[:, None], size_b[None, :])
    cost: Floats = np.hypot(dx, dy) / (larger * np.maximum(gates, 1e-9)[:, None])
    cost[(cost > 1.0) | (smaller * 2 < larger)] = _NO
    return cost
