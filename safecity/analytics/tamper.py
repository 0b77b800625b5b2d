"""Camera tamper: someone or something spoils the picture, and the OCC should know at once.

Five checks, each on cheap figures of the small grey picture the motion check already made:

- **covered** — a hand, a bag, spray paint or a sticker over the lens: the picture keeps almost
  no *structure* (edges at a coarse scale, where sensor noise is averaged away), whatever its
  brightness. A black cover is reported as *dark* instead: one cause, one alert.
- **defocus** — the lens turned out of focus or smeared: the picture's *sharpness* (the
  Laplacian's spread over the picture's own contrast, so lighting does not move it) falls far
  below the learned reference while the brightness stays near the reference's.
- **moved** — the camera turned or knocked: the edges of the coarse picture no longer line up
  with the learned reference's, while the picture stays steady at the new view — a passing
  lorry or a camera still swinging is not a new view. Edges, not grey levels: a 3° turn or a
  3% shift costs the edge maps a third of their likeness but the grey pictures a tenth, as
  little as switching to infrared does. Compared tile by tile (3 × 3), the median tile
  counting: lights going out over half the street, or a crowd filling one corner, leave most
  tiles alike, whereas a turned camera changes them all. The shift, found by phase
  correlation, is reported with the change.
- **frozen** — frames keep arriving but the picture does not change. A still street still
  changes: sensor noise flips many pixels by a grey level or two from frame to frame (even
  after a camera's noise reduction), whereas a frozen encoder repeats the same picture. So a
  frame counts as frozen when fewer than 1% of its pixels differ *at all* from the frame before
  — a share, not a mean, so that an on-screen clock ticking over a frozen picture does not hide
  it. A low-bitrate stream of a dead-still scene can repeat whole frames too, but its keyframes
  differ, hence the longer hold.
- **dark** — the mean brightness stays below a floor (lights out, a black cover, a broken IR).

Each check is **raised once**, when its condition has held for its hold time, and **cleared**
once the picture has recovered — past a stricter threshold than the onset's, for a couple of
seconds — so a picture hovering at a threshold does not flap. The reference (brightness,
sharpness and the coarse picture) is learned from the first seconds and then follows the scene
slowly (dusk, seasons), but only while no check is raised or building up, so a tamper never
becomes the new normal. Time is the frames' own (``Frame.at``), never the wall clock, so a file
analysed faster than real time gives the same answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

import cv2
import numpy as np
import numpy.typing as npt

from safecity.analytics.motion import Grey, small_grey
from safecity.analytics.rules.definitions import TAMPER_CHECKS, Tamper, TamperCheck

Sensitivity = Literal["low", "medium", "high"]
TamperState = Literal["raised", "cleared"]
Floats = npt.NDArray[np.float32]
Figures = dict[str, float]

_COARSE_ROWS = 48
"""Rows of the coarse picture that structure and the view are compared on: fine enough for a
3% turn, coarse enough that sensor noise hardly counts."""
_LEARN_SECONDS = 3.0
"""The reference is the average of the first seconds of a picture that is neither dark nor
covered (a camera that starts in the dark is learned when the lights come on)."""
_REFERENCE_SECONDS = 120.0
"""Time constant of the reference following the scene while all is well."""
_VIEW_SECONDS = 1.5
"""Time constant of the smoothed coarse picture compared with the reference: walkers blur
into it, so a busy plaza still looks like its reference; a turned camera shows within ~2 s."""
_STEADY_AFTER = 1.0
"""The view is steady when it still looks like the view of at least this long ago."""
_STEADY_LIKENESS = 0.8
"""...its edges' tiled likeness to them at least this (a swinging camera's falls far below)."""
_VIEW_EVERY = 0.5
"""Seconds between comparisons of the view with the reference: it is smoothed over 1.5 s, so
looking more often would cost without telling more."""
_TILES = 3
"""The view is compared tile by tile, 3 × 3, and the median tile's likeness counts."""
_USUAL_LIKENESS = 0.95
"""How alike the edges of an untouched view and its reference usually are (people walking,
noise); a moved camera counts as back once halfway from its limit to this."""
_FROZEN_CHANGED_SHARE = 0.01
_FROZEN_GRACE_SECONDS = 1.0
"""A frozen picture still changes at each keyframe the camera sends (the encoder re-renders
the stuck image, and the frame after it): a change this short does not end the freeze."""
_CLEAR_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class _Limits:
    hold: float
    """Seconds a condition must last before it is raised."""
    frozen_hold: float
    dark_floor: float
    """Mean grey level (of 255) below which the picture is too dark."""
    structure_floor: float
    """Coarse structure below which the lens is covered."""
    sharpness_share: float
    """Sharpness below this share of the reference's is defocus."""
    likeness: float
    """A view whose edges are less like the reference's than this (correlation) has moved."""


_LIMITS: dict[Sensitivity, _Limits] = {
    "high": _Limits(2.0, 5.0, 40.0, 5.0, 0.5, 0.8),
    "medium": _Limits(4.0, 10.0, 30.0, 4.0, 0.35, 0.65),
    "low": _Limits(8.0, 30.0, 20.0, 3.0, 0.2, 0.45),
}


@dataclass(frozen=True, slots=True)
class TamperOptions:
    sensitivity: Sensitivity = "medium"
    """high: smaller changes, raised sooner; low: only gross tampering, after longer."""
    checks: frozenset[TamperCheck] = frozenset(TAMPER_CHECKS)

    def __post_init__(self) -> None:
        if self.sensitivity not in _LIMITS:
            raise ValueError(f"tamper sensitivity is low, medium or high, not {self.sensitivity!r}")
        unknown = set(self.checks) - set(TAMPER_CHECKS)
        if unknown:
            raise ValueError(
                f"unknown tamper checks {sorted(unknown)}; known: {', '.join(TAMPER_CHECKS)}"
            )

    @classmethod
    def for_rule(cls, rule: Tamper) -> TamperOptions:
        return cls(rule.sensitivity, frozenset(rule.checks))


@dataclass(frozen=True, slots=True)
class TamperChange:
    """A check raised or cleared."""

    check: TamperCheck
    state: TamperState
    at: float
    """The frame time at which it was decided (the hold time after ``since``)."""
    since: float
    """When the picture began to look this way: the onset, or the start of the recovery."""
    figures: Figures
    """What was measured, for the operator and the accuracy bench (names per check)."""


@dataclass(frozen=True, slots=True)
class _Look:
    """One picture's figures."""

    at: float
    brightness: float
    structure: float
    sharpness: float
    coarse: Floats
    changed: float
    """Share of pixels that differ at all from the previous frame (1.0 for the first)."""


@dataclass(slots=True)
class _Reference:
    brightness: float
    sharpness: float
    coarse: Floats


@dataclass(slots=True)
class _Watch:
    """One check's onset and recovery timing."""

    check: TamperCheck
    raised: bool = False
    since: float | None = None
    last: float = 0.0
    """When the condition that is building last held."""

    @property
    def building(self) -> bool:
        return self.raised or self.since is not None

    def step(
        self,
        at: float,
        bad: bool,
        good: bool,
        hold: float,
        figures: Callable[[], Figures],
        grace: float = 0.0,
    ) -> TamperChange | None:
        """``bad``: the onset condition holds; ``good``: the (stricter) recovery one does.
        ``figures`` are measured only for a change. A lapse of the condition no longer than
        ``grace`` seconds does not restart its hold."""
        going = good if self.raised else bad
        if not going:
            if self.since is not None and at - self.last <= grace:
                return None
            self.since = None
            return None
        if self.since is None:
            self.since = at
        self.last = at
        if at - self.since < (_CLEAR_SECONDS if self.raised else hold):
            return None
        self.raised = not self.raised
        state: TamperState = "raised" if self.raised else "cleared"
        change = TamperChange(self.check, state, at, self.since, figures())
        self.since = None
        return change


class TamperWatch:
    """One camera's tamper checks, fed every frame's small grey picture and time.

    Not thread-safe: one watch per camera, fed by that camera's decode loop.
    """

    def __init__(self, options: TamperOptions | None = None) -> None:
        self.options = options or TamperOptions()
        self._limits = _LIMITS[self.options.sensitivity]
        self._watches = {check: _Watch(check) for check in TAMPER_CHECKS}
        self._shape: tuple[int, ...] = ()
        self._previous: Grey | None = None
        self._last_at = -math.inf
        self._view: Floats | None = None
        self._steady_view: tuple[float, Floats] | None = None
        self._view_seen: tuple[float, float, bool] | None = None
        self._learning: list[_Look] = []
        self._reference: _Reference | None = None

    @property
    def raised(self) -> frozenset[TamperCheck]:
        """The checks raised now."""
        return frozenset(c for c, watch in self._watches.items() if watch.raised)

    def watch(self, grey: Grey, at: float) -> list[TamperChange]:
        """Look at one frame: ``grey`` the small grey picture (``Motion.grey``), ``at`` the
        frame's time in seconds. Returns what was raised or cleared on this frame."""
        if not isinstance(grey, np.ndarray) or grey.dtype != np.uint8 or grey.ndim != 2:
            raise ValueError("the tamper watch needs a grey picture: height × width of uint8")
        if min(grey.shape) < 16:
            raise ValueError(f"the picture is too small to watch: {grey.shape[1]}×{grey.shape[0]}")
        if not math.isfinite(at):
            raise ValueError(f"a frame time must be a finite number of seconds, got {at}")
        if grey.shape != self._shape:
            self._start_over(grey)
        if at < self._last_at:
            self._clock_stepped_back(at)
        elapsed = 0.0 if self._last_at == -math.inf else at - self._last_at
        self._last_at = at

        look = self._look(grey, at, elapsed)
        dark = look.brightness < self._limits.dark_floor
        covered = not dark and look.structure < self._limits.structure_floor
        changes = [
            self._frozen(at, look),
            self._dark(at, look, dark),
            self._covered(at, look, covered),
        ]
        if self._reference is None:
            if not (dark or covered):
                self._learn(at, look)
        else:
            defocused = not (dark or covered) and self._defocused(look)
            changes.append(self._defocus(at, look, defocused))
            changes.append(self._moved(at, look, dark or covered or defocused))
            if not any(watch.building for watch in self._watches.values()):
                self._follow(look, elapsed)
        return [change for change in changes if change is not None]

    def _start_over(self, grey: Grey) -> None:
        """A new picture size (the stream changed): learn everything anew."""
        self._shape = grey.shape
        self._previous = None
        self._view = None
        self._steady_view = None
        self._view_seen = None
        self._learning = []
        self._reference = None

    def _clock_stepped_back(self, at: float) -> None:
        """The frames' clock went back (set by NTP, a new source): timings in progress start
        again from ``at`` rather than waiting for the old time to come round."""
        for watch in self._watches.values():
            if watch.since is not None:
                watch.since = at
        if self._steady_view is not None:
            self._steady_view = (at, self._steady_view[1])
        self._learning = []

    def _look(self, grey: Grey, at: float, elapsed: float) -> _Look:
        mean, spread = cv2.meanStdDev(grey)
        brightness, contrast = float(mean[0, 0]), float(spread[0, 0])
        _, edges = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_16S))
        small = small_grey(grey, _COARSE_ROWS)
        _, coarse_edges = cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_16S))
        coarse = cast(Floats, small.astype(np.float32))
        if self._view is None:
            self._view = coarse.copy()
        else:
            cv2.accumulateWeighted(coarse, self._view, _rate(elapsed, _VIEW_SECONDS))
        changed = 1.0
        if self._previous is not None:
            changed = cv2.countNonZero(cv2.absdiff(grey, self._previous)) / grey.size
        self._previous = grey.copy()
        return _Look(
            at=at,
            brightness=brightness,
            structure=float(coarse_edges[0, 0]),
            sharpness=float(edges[0, 0]) / max(contrast, 1.0),
            coarse=coarse,
            changed=changed,
        )

    def _frozen(self, at: float, look: _Look) -> TamperChange | None:
        frozen = look.changed < _FROZEN_CHANGED_SHARE
        return self._step(
            "frozen",
            at,
            frozen,
            not frozen,
            self._limits.frozen_hold,
            lambda: {"changed_share": round(look.changed, 4)},
            grace=_FROZEN_GRACE_SECONDS,
        )

    def _dark(self, at: float, look: _Look, dark: bool) -> TamperChange | None:
        floor = self._limits.dark_floor
        return self._step(
            "dark",
            at,
            dark,
            look.brightness > floor + 10,
            self._limits.hold,
            lambda: {"brightness": round(look.brightness, 1), "floor": floor},
        )

    def _covered(self, at: float, look: _Look, covered: bool) -> TamperChange | None:
        floor = self._limits.structure_floor
        return self._step(
            "covered",
            at,
            covered,
            look.structure > 2 * floor and look.brightness > self._limits.dark_floor,
            self._limits.hold,
            lambda: {"structure": round(look.structure, 2), "floor": floor},
        )

    def _defocused(self, look: _Look) -> bool:
        reference = self._reference
        assert reference is not None
        similar = abs(look.brightness - reference.brightness) <= 0.5 * reference.brightness
        return similar and look.sharpness < self._limits.sharpness_share * reference.sharpness

    def _defocus(self, at: float, look: _Look, defocused: bool) -> TamperChange | None:
        reference = self._reference
        assert reference is not None
        share = look.sharpness / max(reference.sharpness, 1e-6)
        limit = self._limits.sharpness_share
        return self._step(
            "defocus",
            at,
            defocused,
            share > 1.5 * limit,
            self._limits.hold,
            lambda: {"sharpness_share": round(share, 3), "limit": limit},
        )

    def _moved(self, at: float, look: _Look, explained: bool) -> TamperChange | None:
        reference, view = self._reference, self._view
        assert reference is not None and view is not None
        if self._view_seen is None or not 0 <= at - self._view_seen[0] < _VIEW_EVERY:
            edges = _edges(view)
            likeness = _tiled_likeness(_edges(reference.coarse), edges)
            self._view_seen = (at, likeness, self._steady(at, edges))
        _, likeness, steady = self._view_seen
        limit = self._limits.likeness
        return self._step(
            "moved",
            at,
            not explained and steady and likeness < limit,
            likeness > (limit + _USUAL_LIKENESS) / 2,
            self._limits.hold,
            lambda: {"likeness": round(likeness, 3), "shift": _shift(reference.coarse, view)},
        )

    def _steady(self, at: float, edges: Floats) -> bool:
        """The view's edges now look like those of a second or more ago (kept once a second)."""
        if self._steady_view is None:
            self._steady_view = (at, edges)
            return False
        then, earlier = self._steady_view
        if at - then >= _STEADY_AFTER:
            self._steady_view = (at, edges)
        return _tiled_likeness(earlier, edges) >= _STEADY_LIKENESS

    def _step(
        self,
        check: TamperCheck,
        at: float,
        bad: bool,
        good: bool,
        hold: float,
        figures: Callable[[], Figures],
        grace: float = 0.0,
    ) -> TamperChange | None:
        if check not in self.options.checks:
            return None
        return self._watches[check].step(at, bad, good, hold, figures, grace)

    def _learn(self, at: float, look: _Look) -> None:
        self._learning.append(look)
        if at - self._learning[0].at < _LEARN_SECONDS:
            return
        looks = self._learning
        self._reference = _Reference(
            brightness=float(np.mean([one.brightness for one in looks])),
            sharpness=float(np.median([one.sharpness for one in looks])),
            coarse=np.mean([one.coarse for one in looks], axis=0, dtype=np.float32),
        )
        self._learning = []

    def _follow(self, look: _Look, elapsed: float) -> None:
        reference = self._reference
        assert reference is not None
        rate = _rate(elapsed, _REFERENCE_SECONDS)
        reference.brightness += rate * (look.brightness - reference.brightness)
        reference.sharpness += rate * (look.sharpness - reference.sharpness)
        cv2.accumulateWeighted(look.coarse, reference.coarse, rate)


def _rate(elapsed: float, time_constant: float) -> float:
    """The share of a new value an exponential average with ``time_constant`` takes in after
    ``elapsed`` seconds: frame-rate independent."""
    return 1.0 - math.exp(-max(elapsed, 0.0) / time_constant)


def _edges(picture: Floats) -> Floats:
    """Gradient magnitude: the picture's edges, whatever their grey levels."""
    across = cv2.Sobel(picture, cv2.CV_32F, 1, 0)
    down = cv2.Sobel(picture, cv2.CV_32F, 0, 1)
    return cast(Floats, cv2.magnitude(across, down))


def _tiled_likeness(a: Floats, b: Floats) -> float:
    """The median of the tiles' likenesses (normalised correlation, tile by tile): lights going
    out over part of the picture, or a crowd in one corner, leave most tiles alike; a turned
    camera changes them all."""
    rows, columns = a.shape[0] // _TILES, a.shape[1] // _TILES

    def tiles(picture: Floats) -> npt.NDArray[np.float64]:
        cut = picture[: rows * _TILES, : columns * _TILES].astype(np.float64)
        flat: npt.NDArray[np.float64]
        split = cut.reshape(_TILES, rows, _TILES, columns).transpose(0, 2, 1, 3)
        flat = split.reshape(_TILES * _TILES, rows * columns)
        flat -= flat.mean(axis=1, keepdims=True)
        return flat

    ta, tb = tiles(a), tiles(b)
    spread = np.sqrt((ta * ta).sum(axis=1) * (tb * tb).sum(axis=1))
    together = (ta * tb).sum(axis=1)
    alike = np.divide(together, spread, out=np.zeros_like(together), where=spread > 1e-9)
    return float(np.median(alike))


def _shift(reference: Floats, view: Floats) -> float:
    """How far ``view`` lies shifted from ``reference``, as a share of the picture's size."""
    rows, columns = reference.shape
    window = cv2.createHanningWindow((columns, rows), cv2.CV_32F)
    # phaseCorrelate multiplies its inputs by the window in place: hand it copies.
    (dx, dy), _ = cv2.phaseCorrelate(reference.copy(), view.copy(), window)
    return round(math.hypot(dx / columns, dy / rows), 3)
