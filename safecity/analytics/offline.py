"""The analytics on a recorded file, as fast as the CPU decodes and detects.

The same stages a live camera runs (``CameraAnalytics``), fed by the file's frames at the
detect rate instead of a stream: for re-analysing archives and evidence clips, for the tests
and for the accuracy bench. What it finds comes out as :class:`OfflineEvent` s, each with its
offset in seconds from the start of the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal

from safecity.analytics.analysis import AnalysisOptions, CameraAnalytics
from safecity.analytics.decoding import DecodeOptions, file_frames
from safecity.analytics.detectors.base import Detector
from safecity.analytics.rules.definitions import CameraRules
from safecity.analytics.tracking import Track

EventType = Literal[
    "object_entered", "object_left", "rule", "tamper_raised", "tamper_cleared", "detections"
]


@dataclass(frozen=True)
class OfflineEvent:
    offset: float
    """Seconds from the start of the file."""
    type: EventType
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"offset": round(self.offset, 2), "type": self.type, **self.data}


@dataclass
class OfflineSummary:
    frames: int = 0
    seconds: float = 0.0
    """The length of the file analysed (its last frame's offset)."""
    detector_calls: int = 0
    regions: int = 0
    rule_hits: int = 0
    objects: int = 0
    wall_seconds: float = 0.0

    @property
    def speed(self) -> float:
        """How many times faster than real time."""
        return self.seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "summary",
            "frames": self.frames,
            "seconds": round(self.seconds, 2),
            "detector_calls": self.detector_calls,
            "regions": self.regions,
            "rule_hits": self.rule_hits,
            "objects": self.objects,
            "wall_seconds": round(self.wall_seconds, 2),
            "speed": round(self.speed, 1),
        }


def analyse_file(
    path: Path,
    rules: CameraRules,
    detector: Detector | None,
    zone: tzinfo,
    *,
    decode: DecodeOptions | None = None,
    options: AnalysisOptions | None = None,
    started_at: float | None = None,
    detections: bool = False,
    summary: OfflineSummary | None = None,
    progress: Callable[[float], None] | None = None,
) -> Iterator[OfflineEvent]:
    """The events of ``path`` in the order they happen. ``started_at`` (epoch seconds) is when
    the file's first frame was taken, for the rules' schedules (default: now).
    ``detections``: also one ``detections`` event per frame the detector ran on. ``summary``
    is filled in as the file is read; ``progress`` gets each frame's offset. Raises
    ``UnreadableVideo`` for a file that cannot be read."""
    summary = summary if summary is not None else OfflineSummary()
    analytics = CameraAnalytics(rules, detector, zone, options)
    start = started_at if started_at is not None else time.time()
    began = time.perf_counter()
    last_offset = 0.0
    for frame in file_frames(path, decode or DecodeOptions(), started_at=start):
        last_offset = frame.offset
        result = analytics.analyse(frame)
        summary.frames += 1
        summary.seconds = frame.offset
        if result.regions:
            summary.detector_calls += 1
            summary.regions += result.regions
        if detections and result.regions:
            yield OfflineEvent(
                frame.offset,
                "detections",
                {
                    "objects": [
                        {
                            "class": d.object_class.value,
                            "score": round(d.score, 3),
                            "box": d.box.as_list(),
                        }
                        for d in result.detections
                    ]
                },
            )
        if result.tracked is not None:
            for track in result.tracked.confirmed:
                summary.objects += 1
                yield OfflineEvent(
                    track.first_seen - start,
                    "object_entered",
                    {"track": track.id, "class": track.object_class.value},
                )
            for track in result.tracked.ended:
                yield OfflineEvent(frame.offset, "object_left", _left(track, start))
        for finding in result.findings:
            if finding.rule_kind == "tamper":
                kind: EventType = "tamper_cleared" if finding.cleared else "tamper_raised"
                yield OfflineEvent(
                    finding.at - start,
                    kind,
                    {
                        "check": finding.details.get("check"),
                        "since": round(finding.started_at - start, 2),
                    },
                )
                continue
            summary.rule_hits += 1
            yield OfflineEvent(
                finding.at - start,
                "rule",
                {
                    "rule": finding.rule_name,
                    "kind": finding.rule_kind,
                    "track": finding.track_id,
                    "class": finding.object_class.value if finding.object_class else None,
                    "confidence": round(finding.confidence, 3),
                    "since": round(finding.started_at - start, 2),
                    "boxes": [box.as_list() for box in finding.boxes],
                    **{k: v for k, v in finding.details.items() if _plain(v)},
                },
            )
        if progress is not None:
            progress(frame.offset)
    # The end of the file: every object still in view leaves.
    for track in analytics.finish().ended:
        yield OfflineEvent(last_offset, "object_left", _left(track, start))
    summary.wall_seconds = time.perf_counter() - began


def _left(track: Track, start: float) -> dict[str, Any]:
    return {
        "track": track.id,
        "class": track.object_class.value,
        "entered": round(track.first_seen - start, 2),
        "left": round(track.last_seen - start, 2),
    }


def _plain(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
