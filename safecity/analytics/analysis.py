"""One camera's analysis, frame by frame: the stages in Frigate's order of economy.

Every frame: privacy masks, motion on a small grey picture, the tamper watch. Only where
something moves or an object is being followed: the detector, on model-sized regions around
it (a still scene costs no detector call); objects standing still are looked at again only
every ``recheck_still_seconds``, so a parked car does not keep the detector busy. Then the
tracker, the camera's rules and its counts. What fired comes out as :class:`Finding` s, with
the best view of the object as the snapshot.

No I/O here, no threads: the live watch and the offline run of a file both call
:meth:`CameraAnalytics.analyse` with one frame at a time, and store and send what it returns.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from safecity.analytics.counting import CountBins, CountRow
from safecity.analytics.detectors.base import Detector
from safecity.analytics.detectors.shared import DetectionDropped
from safecity.analytics.findings import Finding
from safecity.analytics.frames import Frame, Image
from safecity.analytics.masks import PrivacyMasks
from safecity.analytics.motion import Motion, MotionDetector, MotionOptions
from safecity.analytics.objects import Box, Detection
from safecity.analytics.regions import Region, detector_regions
from safecity.analytics.rules.definitions import CameraRules, Tamper
from safecity.analytics.rules.engine import RuleEngine, RuleHit, RuleTiming
from safecity.analytics.tamper import TamperChange, TamperOptions, TamperWatch
from safecity.analytics.tracking import Track, Tracker, TrackerSettings, TrackerUpdate
from safecity.city.schedule import in_schedule

CLOCK_STEP_BACK_SECONDS = 10.0
"""A frame's time a little before the last one's (ingest re-anchoring a camera clock that runs
fast) holds time still; further back (a looped file) starts the analysis over."""
RECENT_FRAMES = 8
"""Frames kept for the best view of a track not yet confirmed (confirmed after a few hits)."""
DUPLICATE_IOU = 0.6
"""Two boxes of one class overlapping this much, from overlapping regions, are one object."""
FIGURES_WEIGHT = 0.1
"""How fast the moving averages in the figures follow the latest frame."""


@dataclass(frozen=True)
class AnalysisOptions:
    motion: MotionOptions = field(default_factory=MotionOptions)
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    timing: RuleTiming = field(default_factory=RuleTiming)
    max_regions: int = 6
    """Detector regions per frame at most (the least important are merged into the last)."""
    recheck_still_seconds: float = 2.0
    """An object standing still is looked at again this often (under the tracker's max age,
    so it is kept)."""
    count_seconds: int = 900
    """Counts of people and vehicles are kept per this many seconds (15 minutes)."""
    tamper_every_seconds: float = 1.0
    """The tamper watch looks at a frame this often: its checks hold for seconds, and at the
    detect rate it would cost as much as motion."""

    def __post_init__(self) -> None:
        if self.recheck_still_seconds >= self.tracker.max_age:
            raise ValueError(
                "objects standing still must be looked at again within the tracker's max age "
                f"({self.tracker.max_age} s), not every {self.recheck_still_seconds} s"
            )


@dataclass(frozen=True)
class Analysis:
    """What one frame gave."""

    findings: list[Finding]
    counts: list[CountRow]
    """Count bins that ended by this frame."""
    regions: int
    """Detector regions looked at in this frame (0: no detector call)."""
    detections: list[Detection] = field(default_factory=list)
    """What the detector found in those regions (frame pixels, duplicates removed)."""
    tracked: TrackerUpdate | None = None
    """The tracker's view after this frame, when the detector ran."""


@dataclass(frozen=True)
class Finished:
    """What the end of a stream gave."""

    ended: tuple[Track, ...]
    counts: list[CountRow]


@dataclass
class _Figures:
    frames: int = 0
    detector_frames: int = 0
    detector_ms: float = 0.0
    motion_share: float = 0.0
    regions: float = 0.0
    objects: int = 0

    def add(self, *, regions: int, detector_ms: float | None, share: float) -> None:
        self.frames += 1
        self.motion_share += FIGURES_WEIGHT * (share - self.motion_share)
        self.regions += FIGURES_WEIGHT * (regions - self.regions)
        if detector_ms is not None:
            self.detector_frames += 1
            self.detector_ms += FIGURES_WEIGHT * (detector_ms - self.detector_ms)


class CameraAnalytics:
    """One camera's stages; ``detector`` None runs motion, tamper (and nothing object-based)."""

    def __init__(
        self,
        rules: CameraRules,
        detector: Detector | None,
        zone: tzinfo,
        options: AnalysisOptions | None = None,
    ) -> None:
        self._detector = detector
        self._zone = zone
        self._options = options or AnalysisOptions()
        self._figures = _Figures()
        self._size: tuple[int, int] | None = None
        self._rules = rules
        self._masks = PrivacyMasks(rules.masks)
        self._motion = MotionDetector(self._options.motion, self._masks)
        self._tracker = Tracker(self._options.tracker)
        self._tamper_rule = _tamper_rule(rules)
        self._tamper = (
            TamperWatch(TamperOptions.for_rule(self._tamper_rule)) if self._tamper_rule else None
        )
        self._dropped = 0
        self._engine: RuleEngine | None = None
        self._counts: CountBins | None = None
        self._recent: OrderedDict[float, Image] = OrderedDict()
        self._views: dict[int, Image] = {}
        self._last_at: float | None = None
        self._tamper_at: float | None = None
        """When the tamper watch last looked."""
        self._still_checked: dict[int, float] = {}

    @property
    def rules(self) -> CameraRules:
        return self._rules

    def use_rules(self, rules: CameraRules) -> list[CountRow]:
        """Go on with edited rules: what follows the objects (the tracker: their ids, their
        time in view) goes on; the masks, motion and tamper watch start over only when theirs
        changed; the rules and counts start over (the counts of the bin under way are given
        back, to be stored). A person already in a zone may fire its edited rule again."""
        if rules.masks != self._rules.masks:
            self._masks = PrivacyMasks(rules.masks)
            self._motion = MotionDetector(self._options.motion, self._masks)
        tamper = _tamper_rule(rules)
        if _tamper_options(tamper) != _tamper_options(self._tamper_rule):
            self._tamper = TamperWatch(TamperOptions.for_rule(tamper)) if tamper else None
            self._tamper_at = None
        self._tamper_rule = tamper
        self._rules = rules
        finished = self._counts.flush() if self._counts is not None else []
        if self._size is not None:
            self._rules_for(self._size)
        return finished

    def use_detector(self, detector: Detector | None) -> None:
        """A detector from now on (its model arrived)."""
        self._detector = detector

    # -- one frame ---------------------------------------------------------------------------

    def analyse(self, frame: Frame) -> Analysis:
        size = (frame.width, frame.height)
        finished: list[CountRow] = []
        at = frame.at
        far_back = False
        if self._last_at is not None and at < self._last_at:
            if self._last_at - at <= CLOCK_STEP_BACK_SECONDS:
                at = self._last_at  # ingest re-anchored a fast camera clock: time stands still
            else:
                far_back = True  # a looped file: start over
        if far_back or size != self._size:
            finished = self._restart(size)  # a new stream
        self._last_at = at
        motion = self._motion.detect(frame.grey)  # it leaves the masks' motion out itself
        findings = self._tamper_findings(frame, at, motion.grey)

        looked, detector_ms = 0, None
        detections: list[Detection] = []
        update: TrackerUpdate | None = None
        regions = self._regions(frame, at, motion) if self._detector is not None else []
        looked_at = self._look(frame, regions)
        if looked_at is not None:
            image, found, detector_ms = looked_at
            looked = len(regions)
            detections = _without_duplicates(
                [
                    Detection(d.object_class, d.score, d.box.shifted(region.x, region.y))
                    for region, inside in zip(regions, found, strict=True)
                    for d in inside
                ],
                frame.width,
                frame.height,
            )
            update = self._tracker.update(at, detections)
            self._remember(at, image, update)
            findings += self._rule_findings(update, image, size)
            assert self._counts is not None
            self._counts.update(update)
        self._figures.add(regions=looked, detector_ms=detector_ms, share=motion.share)
        if self._counts is not None:
            finished += self._counts.drain(at)
        return Analysis(findings, finished, looked, detections, update)

    def finish(self) -> Finished:
        """The stream ended: every object still in view leaves, and the counts not yet given
        are given."""
        if self._counts is None:
            return Finished((), [])
        update = self._tracker.finish()  # nothing to count: objects are counted as they come
        return Finished(update.ended, self._counts.flush())

    def figures(self) -> dict[str, float]:
        """For the camera's health: detector ms per frame that ran it, the share of frames
        that ran it, the share of the picture moving, regions per frame (moving averages)."""
        f = self._figures
        return {
            "detector_ms": round(f.detector_ms, 2),
            "detector_share": round(f.detector_frames / f.frames, 3) if f.frames else 0.0,
            "motion_share": round(f.motion_share, 4),
            "regions": round(f.regions, 2),
            "detector_dropped": float(self._dropped),
        }

    # -- the stages --------------------------------------------------------------------------

    def _restart(self, size: tuple[int, int]) -> list[CountRow]:
        finished = self.finish().counts
        self._size = size
        self._tracker = Tracker(self._options.tracker)
        self._rules_for(size)
        self._recent.clear()
        self._views.clear()
        self._still_checked.clear()
        return finished

    def _look(
        self, frame: Frame, regions: list[Region]
    ) -> tuple[Image, list[list[Detection]], float] | None:
        """The detector on ``regions`` of the frame in colour (made only now: something
        moves): the masked picture, what each region holds, the milliseconds it took. None
        when there is nothing to look at, or the shared detector let the frame go (it is
        overloaded; counted as ``detector_dropped``)."""
        if self._detector is None or not regions:
            return None
        image = self._masks.apply(frame.image)
        started = time.perf_counter()
        try:
            found = self._detector.detect_batch([region.cut(image) for region in regions])
        except DetectionDropped:
            self._dropped += 1
            return None
        return image, found, (time.perf_counter() - started) * 1000

    def _rules_for(self, size: tuple[int, int]) -> None:
        width, height = size
        self._engine = RuleEngine(self._rules, width, height, self._zone, self._options.timing)
        self._counts = CountBins(
            self._rules,
            width,
            height,
            self._options.count_seconds,
            self._options.timing.line_margin,
        )

    def _regions(self, frame: Frame, at: float, motion: Motion) -> list[Region]:
        """Where the detector looks in this frame: around what moves (unless the background
        is being learned again) and the objects being followed."""
        assert self._detector is not None
        return detector_regions(
            () if motion.calibrating else motion.boxes,
            self._objects_to_look_at(at),
            frame.width,
            frame.height,
            self._detector.input_size[0],
            max_regions=self._options.max_regions,
        )

    def _objects_to_look_at(self, at: float) -> list[Box]:
        """Where the tracked objects will be: all that move, and those standing still when
        they are due to be looked at again."""
        boxes: list[Box] = []
        due = self._options.recheck_still_seconds
        for track, box in self._tracker.predicted(at):
            if track.stationary_since is not None and track.confirmed:
                checked = self._still_checked.get(track.id, -1e18)
                if at - checked < due:
                    continue
                self._still_checked[track.id] = at
            boxes.append(box)
        return boxes

    def _remember(self, at: float, image: Image, update: TrackerUpdate) -> None:
        """Keep each track's best view (the image of its best frame)."""
        self._recent[at] = image
        while len(self._recent) > RECENT_FRAMES:
            self._recent.popitem(last=False)
        for track in update.tracks:
            view = self._recent.get(track.best.at)
            if view is not None:
                self._views[track.id] = view
        for track in update.ended:
            self._views.pop(track.id, None)
            self._still_checked.pop(track.id, None)

    def _rule_findings(
        self, update: TrackerUpdate, image: Image, size: tuple[int, int]
    ) -> list[Finding]:
        assert self._engine is not None
        hits = self._engine.update(update.at, update.tracks, update.ended)
        by_id = {track.id: track for track in (*update.tracks, *update.ended)}
        return [self._finding(hit, by_id, image, size) for hit in hits]

    def _finding(
        self, hit: RuleHit, tracks: dict[int, Track], image: Image, size: tuple[int, int]
    ) -> Finding:
        track = tracks.get(hit.track_id) if hit.track_id is not None else None
        view = self._views.get(hit.track_id, image) if hit.track_id is not None else image
        drawn = (track.best.box,) if track is not None and view is not image else None
        return Finding(
            rule_name=hit.rule,
            rule_kind=hit.kind,
            alert_kind=hit.kind,
            at=hit.at,
            started_at=hit.started_at,
            confidence=hit.confidence,
            boxes=tuple(hit.boxes),
            frame_size=size,
            object_class=hit.object_class,
            track_id=hit.track_id,
            snapshot=view,
            snapshot_boxes=drawn,
            details=dict(hit.details),
        )

    def _tamper_findings(self, frame: Frame, at: float, small: Image) -> list[Finding]:
        """The tamper watch on ``small``, motion's grey picture, unmasked: black masks and
        their fixed edges would move its brightness and structure with their size (the
        findings' snapshots are masked)."""
        rule = self._tamper_rule
        if self._tamper is None or rule is None:
            return []
        every = self._options.tamper_every_seconds
        if self._tamper_at is not None and self._tamper_at <= at < self._tamper_at + every - 1e-3:
            return []
        if not in_schedule(rule.schedule, datetime.fromtimestamp(at, UTC), self._zone):
            return []
        self._tamper_at = at
        changes = self._tamper.watch(small, at)
        return [_tamper_finding(rule, change, self._masks, frame) for change in changes]


def _tamper_rule(rules: CameraRules) -> Tamper | None:
    return next((r for r in rules.rules if isinstance(r, Tamper) and r.enabled), None)


def _tamper_options(rule: Tamper | None) -> TamperOptions | None:
    return TamperOptions.for_rule(rule) if rule is not None else None


def _tamper_finding(
    rule: Tamper, change: TamperChange, masks: PrivacyMasks, frame: Frame
) -> Finding:
    cleared = change.state == "cleared"
    return Finding(
        rule_name=rule.name,
        rule_kind="tamper",
        alert_kind=f"tamper_{change.check}",
        at=change.at,
        started_at=change.since,
        confidence=1.0,
        boxes=(),
        frame_size=(frame.width, frame.height),
        snapshot=None if cleared else masks.apply(frame.image),
        cleared=cleared,
        details={"check": change.check, "state": change.state, **change.figures},
    )


def _without_duplicates(
    detections: Sequence[Detection], width: int, height: int
) -> list[Detection]:
    """One detection per object where overlapping regions both saw it: the surer one kept
    (greedy non-maximum suppression per class), boxes clipped to the frame."""
    kept: list[Detection] = []
    for detection in sorted(detections, key=lambda d: d.score, reverse=True):
        box = detection.box.clipped(width, height)
        if box.area <= 0:
            continue
        if any(
            k.object_class == detection.object_class and k.box.iou(box) >= DUPLICATE_IOU
            for k in kept
        ):
            continue
        kept.append(Detection(detection.object_class, detection.score, box))
    return kept
